#include "signals.hpp"

#include <otter/link.hpp>
#include <otter/monitor.hpp>

#include "dist/runtime.hpp"
#include "process_ext.hpp"
#include "scheduler.hpp"

namespace otter::detail {
namespace {

struct signal_envelope final : envelope {
  signal sig;
};

void free_signal(envelope* e) noexcept { delete static_cast<signal_envelope*>(e); }

void arrive(envelope* e, scheduler& s) {
  auto* se = static_cast<signal_envelope*>(e);
  try {
    handle_signal(s, se->sig);
  } catch (...) {
    // Out of memory while acting on it: the signal is lost, the scheduler lives.
  }
  free_signal(e);
}

constexpr type_tag signal_tag{&free_signal, &arrive};

template <class T>
void to_mailbox(scheduler& s, pid to, T&& message) {
  s.deliver_local(to.bits(), make_message<std::decay_t<T>>(std::forward<T>(message)));
}

// The target of an exit signal acts on it, as Erlang's rules say.
void apply_exit(scheduler& s, pcb& p, pid from, const exit_reason& reason, bool untrappable_kill) {
  if (untrappable_kill) {
    kill_process(s, p, exit_reason::killed());
  } else if ((p.flags & pcb_flag::trap_exit) != 0) {
    to_mailbox(s, p.self, exit_message{from, reason});
  } else if (!reason.is_normal()) {
    kill_process(s, p, reason);
  }
}

} // namespace

void kill_process(scheduler& s, pcb& p, const exit_reason& reason) {
  if ((p.flags & pcb_flag::kill_pending) != 0 || p.state == run_state::exited) return; // first reason wins
  if (&p == tl_current) throw exit_exception{reason}; // the running process: unwind it now
  ext_of(p).reason = reason;
  p.flags |= pcb_flag::kill_pending;
  p.waiter = nullptr;
  if (p.state == run_state::waiting) s.make_ready(p);
  // A ready process is queued already; its scheduler tears it down when it comes up.
}

void send_signal(scheduler& here, signal sig) {
  if (sig.target.scheduler() == here.index()) {
    handle_signal(here, sig);
    return;
  }
  if (sig.target.is_remote()) [[unlikely]] {
    dist::detail::route_signal(here, sig); // to a process of another node
    return;
  }
  if (!sig.target || sig.target.scheduler() >= here.node_size()) return;
  auto* e = new signal_envelope;
  e->tag = &signal_tag;
  e->to = sig.target.bits();
  e->sig = std::move(sig);
  here.post(e->sig.target.scheduler(), e);
}

void handle_signal(scheduler& s, const signal& sig) {
  pcb* p = s.find(sig.target);
  switch (sig.what) {
  case signal::kind::link:
    if (p == nullptr) // linking to a process that does not exist: noproc through the link
      send_signal(s, {signal::kind::link_exit, sig.target, sig.from, {}, exit_reason::noproc()});
    else if (!ext_of(*p).linked_to(sig.from))
      ext_of(*p).links.push_back(sig.from);
    break;
  case signal::kind::unlink:
    if (p != nullptr && p->ext != nullptr) p->ext->unlink(sig.from);
    break;
  case signal::kind::link_exit:
    // Acted on only if the link still exists here: an unlink may have crossed it.
    if (p != nullptr && p->ext != nullptr && p->ext->unlink(sig.from))
      apply_exit(s, *p, sig.from, sig.reason, false);
    break;
  case signal::kind::exit:
    if (p != nullptr)
      apply_exit(s, *p, sig.from, sig.reason, sig.reason.get_kind() == exit_reason::kind::kill);
    break;
  case signal::kind::monitor:
    if (p == nullptr)
      send_signal(s, {signal::kind::down, sig.target, sig.from, sig.tag, exit_reason::noproc()});
    else
      ext_of(*p).monitored_by.push_back({sig.tag, sig.from});
    break;
  case signal::kind::demonitor:
    if (p != nullptr && p->ext != nullptr) process_ext::erase(p->ext->monitored_by, sig.tag);
    break;
  case signal::kind::down:
    // Delivered only if the monitor is still active: demonitor may have crossed it.
    if (p != nullptr && p->ext != nullptr && process_ext::erase(p->ext->monitors, sig.tag))
      to_mailbox(s, sig.target, down_message{sig.tag, sig.from, sig.reason});
    break;
  }
}

void propagate_exit(scheduler& s, pid id, const exit_reason& reason, process_ext& ext) {
  for (pid linked : ext.links) send_signal(s, {signal::kind::link_exit, id, linked, {}, reason});
  for (const monitor_entry& m : ext.monitored_by) send_signal(s, {signal::kind::down, id, m.other, m.tag, reason});
  // Monitors this process held die with it; tell their targets to forget them.
  for (const monitor_entry& m : ext.monitors) send_signal(s, {signal::kind::demonitor, id, m.other, m.tag, {}});
}

} // namespace otter::detail
