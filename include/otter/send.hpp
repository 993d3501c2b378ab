#pragma once
// otter::send — asynchronous message passing.

#include <otter/detail/config.hpp>

#include <string_view>
#include <type_traits>
#include <utility>

#include <otter/detail/envelope.hpp>
#include <otter/detail/runtime.hpp>
#include <otter/pid.hpp>

namespace otter {

/// Sends `message` (any movable C++ value) to the process `to`. Never blocks and
/// never fails: if `to` has exited, the message is dropped, as in Erlang.
///
/// The value is moved into one envelope; no copy or serialisation happens, even
/// across cores. Messages (and signals) from one sender to one receiver arrive
/// in the order they were sent, on the same core or across cores. A process
/// receives the message by its decayed type (`send(p, "hi")` sends a `const char*`).
///
/// Call it on one of the node's threads (normally from a process).
template <class T>
void send(pid to, T&& message) {
  detail::send_envelope(to, detail::make_message<std::decay_t<T>>(std::forward<T>(message)));
}

/// The pid registered as `name`, or the null pid (see registry.hpp).
pid whereis(std::string_view name);

namespace detail {
[[noreturn]] void throw_unregistered(std::string_view name);
}

/// Sends to the process registered as `name`. Throws otter::badarg if no process
/// has that name (Erlang's `Name ! Msg`); inside a process, that crashes it.
template <class T>
void send(std::string_view name, T&& message) {
  pid to = whereis(name);
  if (!to) detail::throw_unregistered(name);
  send(to, std::forward<T>(message));
}

} // namespace otter
