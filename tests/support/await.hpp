#pragma once
// Bounded waits for tests: a wait that cannot be satisfied fails instead of hanging.

#include <optional>

#include <otter/link.hpp>
#include <otter/monitor.hpp>
#include <otter/receive.hpp>
#include <otter/task.hpp>

#include "otter_test.hpp"

namespace otter_test {

/// The DOWN for monitor `r`, or nothing after `patience`.
inline otter::task<std::optional<otter::down_message>> down_of(otter::ref r) {
  co_return co_await otter::receive(
      otter::when([r](const otter::down_message& d) { return d.monitor == r; },
                  [](otter::down_message d) { return std::optional<otter::down_message>(std::move(d)); }),
      otter::after(patience, [] { return std::optional<otter::down_message>(); }));
}

/// The EXIT message from `from`, or nothing after `patience`.
inline otter::task<std::optional<otter::exit_message>> exit_from(otter::pid from) {
  co_return co_await otter::receive(
      otter::when([from](const otter::exit_message& e) { return e.from == from; },
                  [](otter::exit_message e) { return std::optional<otter::exit_message>(std::move(e)); }),
      otter::after(patience, [] { return std::optional<otter::exit_message>(); }));
}

/// Waits until `p` has exited and returns its exit reason (noproc if it was
/// gone already).
inline otter::task<std::optional<otter::exit_reason>> reason_of(otter::pid p) {
  auto d = co_await down_of(otter::monitor(p));
  if (!d) co_return std::nullopt;
  co_return d->reason;
}

} // namespace otter_test
