#include <otter/spawn.hpp>

#include "node_state.hpp"
#include "process_ext.hpp"
#include "scheduler.hpp"

namespace otter::detail {

started_process start_process(prepared_process&& prepared, spawn_options options) {
  scheduler& here = current_scheduler("otter::spawn");
  node_state& node = here.node();

  unsigned target = here.index();
  switch (options.where) {
  case spawn_options::placement::caller:
    break;
  case spawn_options::placement::scheduler:
    target = options.scheduler % node.size();
    break;
  case spawn_options::placement::spread:
    target = node.next_spread.fetch_add(1, std::memory_order_relaxed) % node.size();
    break;
  }
  pcb* parent = (options.link || options.monitor) ? &current_process("otter::spawn_link/spawn_monitor") : nullptr;

  process::promise_type& p = prepared.body.release().promise();
  started_process out{};
  try {
    if (prepared.owned != nullptr) {
      process_ext& ext = ext_of(p);
      ext.owned = std::exchange(prepared.owned, nullptr);
      ext.owned_delete = prepared.owned_delete;
    }
    scheduler& home = *node.schedulers[target];
    out.id = target == here.index() ? here.install_local(p) : home.reserve(p);
    // The link and the monitor exist on both sides before the child can run.
    if (options.link) {
      ext_of(p).links.push_back(parent->self);
      process_ext& parent_ext = ext_of(*parent);
      parent_ext.links.push_back(out.id);
      // A supervisor starting a child: this is the child. Written before the
      // child is installed or adopted, so its own core sees it too.
      if (parent_ext.starting_child) [[unlikely]]
        ext_of(p).child_of = parent_ext.starting_child;
    }
    if (options.monitor) {
      out.monitor = here.next_ref();
      ext_of(p).monitored_by.push_back({out.monitor, parent->self});
      ext_of(*parent).monitors.push_back({out.monitor, out.id});
    }
    if (options.mailbox.messages != 0) [[unlikely]]
      install_mailbox_bound(home, p, options.mailbox); // before anyone knows the pid
  } catch (...) { // the process table is full, or out of memory
    if (prepared.owned != nullptr) prepared.owned_delete(prepared.owned);
    process_ext* ext = std::exchange(p.ext, nullptr);
    if (out.id && target == here.index()) here.forget_local(p);
    process::handle_type::from_promise(p).destroy();
    delete ext;
    throw;
  }
  if (target == here.index())
    here.make_ready(p);
  else
    node.schedulers[target]->adopt(p);
  return out;
}

} // namespace otter::detail
