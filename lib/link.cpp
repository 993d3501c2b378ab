#include <otter/link.hpp>

#include "process_ext.hpp"
#include "scheduler.hpp"
#include "signals.hpp"

namespace otter {

void link(pid other) {
  detail::pcb& me = detail::current_process("otter::link");
  detail::scheduler& s = *detail::tl_scheduler;
  if (other == me.self) return;
  detail::process_ext& ext = detail::ext_of(me);
  if (ext.linked_to(other)) return;
  ext.links.push_back(other);
  detail::send_signal(s, {detail::signal::kind::link, me.self, other, {}, {}});
}

void unlink(pid other) {
  detail::pcb& me = detail::current_process("otter::unlink");
  if (me.ext == nullptr || !me.ext->unlink(other)) return;
  detail::send_signal(*detail::tl_scheduler, {detail::signal::kind::unlink, me.self, other, {}, {}});
}

void exit(pid target, const exit_reason& reason) {
  detail::pcb& me = detail::current_process("otter::exit");
  if (target == me.self) {
    // To oneself: the same rules, applied at once.
    if (reason.get_kind() == exit_reason::kind::kill) throw exit_exception{exit_reason::killed()};
    if ((me.flags & detail::pcb_flag::trap_exit) != 0) {
      detail::tl_scheduler->deliver_local(me.self.bits(),
                                          detail::make_message<exit_message>(exit_message{me.self, reason}));
      return;
    }
    throw exit_exception{reason}; // `normal` too: the process exits normally
  }
  detail::send_signal(*detail::tl_scheduler, {detail::signal::kind::exit, me.self, target, {}, reason});
}

void exit(const exit_reason& reason) {
  (void)detail::current_process("otter::exit");
  throw exit_exception{reason};
}

bool trap_exit(bool on) {
  detail::pcb& me = detail::current_process("otter::trap_exit");
  const bool was = (me.flags & detail::pcb_flag::trap_exit) != 0;
  if (on)
    me.flags |= detail::pcb_flag::trap_exit;
  else
    me.flags &= static_cast<std::uint8_t>(~detail::pcb_flag::trap_exit);
  return was;
}

} // namespace otter
