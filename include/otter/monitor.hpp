#pragma once
// Monitors: monitor, demonitor, spawn_monitor.

#include <otter/detail/config.hpp>

#include <concepts>
#include <type_traits>
#include <utility>

#include <otter/detail/envelope.hpp>
#include <otter/exit_reason.hpp>
#include <otter/pid.hpp>
#include <otter/ref.hpp>
#include <otter/spawn.hpp>

namespace otter {

/// The message a monitoring process receives when the monitored process exits:
/// Erlang's `{'DOWN', Ref, process, Pid, Reason}`.
struct down_message {
  ref monitor;
  pid process;
  exit_reason reason;
};
template <>
inline constexpr bool detail::exempt_from_mailbox_limit<down_message> = true;

/// Monitors `target`: when it exits, the caller receives a `down_message` with
/// the returned reference and the exit reason. Monitors are one-way and stack
/// (each call is a separate monitor with its own DOWN). Monitoring a process
/// that does not exist yields a DOWN with reason `noproc` at once.
ref monitor(pid target);

/// Removes a monitor; no DOWN for it arrives afterwards. With `flush`, also
/// removes a DOWN for it that already arrived. Returns true if the monitor was
/// still active, false if its DOWN had already arrived (or it was removed).
bool demonitor(ref monitor, bool flush = false);

/// A new process and the monitor on it.
struct monitored_process {
  otter::pid pid;
  ref monitor;
};

/// Starts `f(args...)` as a new process monitored by the caller. The monitor
/// exists before the child runs.
template <class F, class... A>
  requires(!std::same_as<std::remove_cvref_t<F>, spawn_options>)
monitored_process spawn_monitor(F&& f, A&&... args) {
  spawn_options o;
  o.monitor = true;
  auto started = detail::start_process(detail::prepare_process(std::forward<F>(f), std::forward<A>(args)...), o);
  return {started.id, started.monitor};
}

/// As above, placed as `options` say.
template <class F, class... A>
monitored_process spawn_monitor(spawn_options options, F&& f, A&&... args) {
  options.monitor = true;
  auto started = detail::start_process(detail::prepare_process(std::forward<F>(f), std::forward<A>(args)...), options);
  return {started.id, started.monitor};
}

} // namespace otter
