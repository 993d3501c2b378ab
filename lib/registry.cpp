#include <otter/registry.hpp>

#include <string>

#include <otter/errors.hpp>

#include "node_state.hpp"
#include "scheduler.hpp"

namespace otter::detail {

namespace {
// Sent to a process's own core when another core registered a name for it.
struct name_envelope final : envelope {
  pid who;
  std::string name;
};
void free_name(envelope* e) noexcept { delete static_cast<name_envelope*>(e); }
void confirm_name(envelope* e, scheduler& s) {
  auto* n = static_cast<name_envelope*>(e);
  if (pcb* p = s.find(n->who))
    p->flags |= pcb_flag::named;
  else
    s.node().names.remove_if(n->name, n->who); // it exited before the name reached it
  free_name(e);
}
constexpr type_tag name_tag{&free_name, &confirm_name};
} // namespace

void throw_unregistered(std::string_view name) {
  throw badarg("otter::send: no process is registered as \"" + std::string(name) + "\"");
}

} // namespace otter::detail

namespace otter {

void register_name(std::string_view name, pid p) {
  detail::scheduler& s = detail::current_scheduler("otter::register_name");
  std::string quoted;
  quoted.append(1, '"').append(name).append(1, '"');
  if (name.empty()) throw badarg("otter::register_name: the name is empty");
  detail::pcb* local = nullptr;
  if (p.scheduler() == s.index()) {
    local = s.find(p);
    if (local == nullptr)
      throw badarg("otter::register_name: cannot register " + quoted + ": " + to_string(p) +
                   " is not alive");
  } else if (!p || p.scheduler() >= s.node().size()) {
    throw badarg("otter::register_name: " + to_string(p) + " is not a process of this node");
  }
  switch (s.node().names.add(name, p)) {
  case detail::name_table::add_result::name_taken:
    throw badarg("otter::register_name: " + quoted + " is already registered");
  case detail::name_table::add_result::already_named:
    throw badarg("otter::register_name: " + to_string(p) + " already has a registered name");
  case detail::name_table::add_result::added:
    break;
  }
  if (local != nullptr) {
    local->flags |= detail::pcb_flag::named;
  } else {
    auto* e = new detail::name_envelope;
    e->tag = &detail::name_tag;
    e->who = p;
    e->name = std::string(name);
    e->to = p.bits();
    s.post(p.scheduler(), e);
  }
}

void unregister_name(std::string_view name) {
  detail::scheduler& s = detail::current_scheduler("otter::unregister_name");
  if (!s.node().names.remove(name))
    throw badarg("otter::unregister_name: \"" + std::string(name) + "\" is not registered");
}

pid whereis(std::string_view name) {
  return detail::current_scheduler("otter::whereis").node().names.find(name);
}

std::vector<std::string> registered() {
  return detail::current_scheduler("otter::registered").node().names.names();
}

} // namespace otter
