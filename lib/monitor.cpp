#include <otter/monitor.hpp>

#include "process_ext.hpp"
#include "scheduler.hpp"
#include "signals.hpp"

namespace otter {

ref monitor(pid target) {
  detail::pcb& me = detail::current_process("otter::monitor");
  detail::scheduler& s = *detail::tl_scheduler;
  const ref tag = s.next_ref();
  detail::ext_of(me).monitors.push_back({tag, target});
  if (target.scheduler() == s.index()) { // on this core: no signal needed
    if (detail::pcb* t = s.find(target))
      detail::ext_of(*t).monitored_by.push_back({tag, me.self});
    else
      detail::send_signal(s, {detail::signal::kind::down, target, me.self, tag, exit_reason::noproc()});
    return tag;
  }
  detail::send_signal(s, {detail::signal::kind::monitor, me.self, target, tag, {}});
  return tag;
}

bool demonitor(ref monitor, bool flush) {
  detail::pcb& me = detail::current_process("otter::demonitor");
  bool active = false;
  if (me.ext != nullptr) {
    auto& mine = me.ext->monitors;
    for (auto it = mine.begin(); it != mine.end(); ++it) {
      if (it->tag != monitor) continue;
      const pid target = it->other;
      *it = mine.back();
      mine.pop_back();
      detail::scheduler& s = *detail::tl_scheduler;
      if (target.scheduler() == s.index()) {
        detail::pcb* t = s.find(target);
        if (t != nullptr && t->ext != nullptr) detail::process_ext::erase(t->ext->monitored_by, monitor);
      } else {
        detail::send_signal(s, {detail::signal::kind::demonitor, me.self, target, monitor, {}});
      }
      active = true;
      break;
    }
  }
  if (flush && !active) {
    // Its DOWN may be queued already: remove it.
    for (detail::envelope** link = &me.mailbox_head; *link != nullptr; link = &(*link)->next) {
      detail::envelope* e = *link;
      if (e->tag == detail::tag_of<down_message>() && detail::payload<down_message>(e).monitor == monitor) {
        detail::destroy(me.take_message(link));
        break;
      }
    }
  }
  return active;
}

} // namespace otter
