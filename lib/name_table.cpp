#include "name_table.hpp"

namespace otter::detail {

name_table::add_result name_table::add(std::string_view name, pid p) {
  std::lock_guard lock(mutex_);
  if (by_name_.find(name) != by_name_.end()) return add_result::name_taken;
  if (by_pid_.find(p) != by_pid_.end()) return add_result::already_named;
  by_name_.emplace(std::string(name), p);
  by_pid_.emplace(p, std::string(name));
  return add_result::added;
}

bool name_table::remove(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return false;
  by_pid_.erase(it->second);
  by_name_.erase(it);
  return true;
}

void name_table::remove_if(std::string_view name, pid p) {
  std::lock_guard lock(mutex_);
  auto it = by_name_.find(name);
  if (it == by_name_.end() || it->second != p) return;
  by_pid_.erase(p);
  by_name_.erase(it);
}

void name_table::remove_pid(pid p) {
  std::lock_guard lock(mutex_);
  auto it = by_pid_.find(p);
  if (it == by_pid_.end()) return;
  by_name_.erase(it->second);
  by_pid_.erase(it);
}

pid name_table::find(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = by_name_.find(name);
  return it == by_name_.end() ? pid{} : it->second;
}

std::string name_table::name_of(pid p) const {
  std::lock_guard lock(mutex_);
  auto it = by_pid_.find(p);
  return it == by_pid_.end() ? std::string{} : it->second;
}

std::vector<std::string> name_table::names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  out.reserve(by_name_.size());
  for (const auto& [name, p] : by_name_) out.push_back(name);
  return out;
}

} // namespace otter::detail
