#pragma once
// Links and exit signals: link, unlink, spawn_link, exit, trap_exit.

#include <otter/detail/config.hpp>

#include <concepts>
#include <type_traits>
#include <utility>

#include <otter/detail/envelope.hpp>
#include <otter/exit_reason.hpp>
#include <otter/pid.hpp>
#include <otter/spawn.hpp>

namespace otter {

/// The message a process that traps exits receives instead of dying: Erlang's
/// `{'EXIT', From, Reason}`. Match it in a receive like any other message.
struct exit_message {
  pid from;
  exit_reason reason;
};
template <>
inline constexpr bool detail::exempt_from_mailbox_limit<exit_message> = true;

/// Links the calling process to `other`, both ways. When either exits with a
/// reason other than `normal`, the other receives an exit signal with that
/// reason: it dies with the same reason, unless it traps exits, in which case
/// an `exit_message` arrives instead. Linking to a process that does not
/// exist sends the caller an exit signal with reason `noproc` (so a caller
/// that does not trap exits dies at once). Linking twice is one link.
void link(pid other);

/// Removes the link between the calling process and `other`, if any. An exit
/// signal already on its way through the link is then ignored.
void unlink(pid other);

/// Sends `target` an exit signal with `reason`, as if a linked process had
/// exited with it, except that `kill` cannot be trapped: the target dies with
/// `killed`. `normal` is ignored unless the target traps exits (then it gets
/// an `exit_message`). Sent to the caller itself, it takes effect at once.
void exit(pid target, const exit_reason& reason);

/// Thrown by `otter::exit(reason)` to end the calling process with `reason`.
/// Not derived from std::exception: only `catch (...)` intercepts it.
struct exit_exception {
  exit_reason reason;
};

/// Ends the calling process at once with `reason` (unwinding its coroutine
/// chain: destructors run). Like Erlang's exit/1.
[[noreturn]] void exit(const exit_reason& reason);

/// Sets whether the calling process traps exits (exit signals become
/// `exit_message`s, except `kill`) and returns the previous setting.
bool trap_exit(bool on);

/// Starts `f(args...)` as a new process linked to the caller. The link exists
/// before the child runs, so even a child that dies at once is noticed.
template <class F, class... A>
  requires(!std::same_as<std::remove_cvref_t<F>, spawn_options>)
pid spawn_link(F&& f, A&&... args) {
  spawn_options o;
  o.link = true;
  return spawn(o, std::forward<F>(f), std::forward<A>(args)...);
}

/// As above, placed as `options` say.
template <class F, class... A>
pid spawn_link(spawn_options options, F&& f, A&&... args) {
  options.link = true;
  return spawn(options, std::forward<F>(f), std::forward<A>(args)...);
}

} // namespace otter
