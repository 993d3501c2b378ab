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
  detail::send_signal(s, {detail::signal::kind::monitor, me.self, target, tag, {}});
  return tag;
}

bool demonitor(ref monitor, bool flush) {
  detail::pcb& me = detail::current_process("otter::demonitor");
  bool active = false;
  if (me.ext != nullptr) {
    for (const auto& m : me.ext->monitors) {
      if (m.tag == monitor) {
        const pid target = m.other;
        detail::process_ext::erase(me.ext->monitors, monitor);
        detail::send_signal(*detail::tl_scheduler, {detail::signal::kind::demonitor, me.self, target, monitor, {}});
        active = true;
        break;
      }
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
