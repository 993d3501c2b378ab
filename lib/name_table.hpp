#pragma once
// A node's registered names (the table behind otter/registry.hpp): visible from every core, guarded by one mutex
// (registration is rare next to message passing).

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <otter/pid.hpp>

namespace otter::detail {

class name_table {
public:
  enum class add_result { added, name_taken, already_named };

  add_result add(std::string_view name, pid p);
  bool remove(std::string_view name);
  /// Removes `name` only if it still names `p`.
  void remove_if(std::string_view name, pid p);
  /// Removes the name of `p`, if it has one (the process exited).
  void remove_pid(pid p);
  pid find(std::string_view name) const;
  /// The name of `p`, or an empty string.
  std::string name_of(pid p) const;
  std::vector<std::string> names() const;

private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  mutable std::mutex mutex_;
  std::unordered_map<std::string, pid, string_hash, std::equal_to<>> by_name_;
  std::unordered_map<pid, std::string> by_pid_;
};

} // namespace otter::detail
