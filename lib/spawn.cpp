#include <otter/spawn.hpp>

#include "node_state.hpp"
#include "process_ext.hpp"
#include "scheduler.hpp"

namespace otter::detail {

pid start_process(prepared_process&& prepared, spawn_options options) {
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

  process::promise_type& p = prepared.body.release().promise();
  if (prepared.owned != nullptr) {
    try {
      process_ext& ext = ext_of(p);
      ext.owned = prepared.owned;
      ext.owned_delete = prepared.owned_delete;
    } catch (...) {
      prepared.owned_delete(prepared.owned);
      process::handle_type::from_promise(p).destroy();
      throw;
    }
  }
  try {
    if (target == here.index()) return here.start_local(p);
    return node.schedulers[target]->adopt(p);
  } catch (...) { // the process table is full
    process_ext* ext = std::exchange(p.ext, nullptr);
    process::handle_type::from_promise(p).destroy();
    delete ext;
    throw;
  }
}

} // namespace otter::detail
