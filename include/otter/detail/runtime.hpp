#pragma once
// The runtime entry points that otter's public templates call.

#include <otter/detail/config.hpp>

#include <otter/detail/envelope.hpp>
#include <otter/detail/pcb.hpp>
#include <otter/pid.hpp>

namespace otter::detail {

/// The process being resumed on this thread, or null outside a process.
extern constinit thread_local pcb* tl_current;
/// The scheduler owning this thread, or null on other threads.
extern constinit thread_local scheduler* tl_scheduler;

/// How many receives in a row a process may satisfy from its mailbox without
/// suspending before it is sent to the back of its run queue (Erlang's reductions).
inline constexpr std::uint32_t receive_budget = 64;

[[noreturn]] void throw_not_in_process(const char* what);

/// The current process; throws std::logic_error naming `what` outside a process.
inline pcb& current_process(const char* what) {
  if (tl_current != nullptr) [[likely]]
    return *tl_current;
  throw_not_in_process(what);
}

/// Routes an envelope to `to`: into the mailbox of a local process, or into the
/// inbox of `to`'s scheduler. Envelopes to dead or unknown pids are destroyed.
void send_envelope(pid to, envelope* e);

/// Puts the running process at the back of its scheduler's run queue.
void requeue(pcb& p) noexcept;

/// Marks the running process as waiting; `waiter` (may be null) filters messages.
inline void suspend_waiting(pcb& p, receive_waiter* waiter) noexcept {
  p.waiter = waiter;
  p.state = run_state::waiting;
}

/// Makes a waiting process ready (from its own scheduler thread).
void wake(pcb& p) noexcept;

} // namespace otter::detail
