#pragma once
// Waits shared by the tests that talk to real Erlang from inside an otter
// process: for a line of erl's output (off the scheduler threads), and for a
// term message. Both bounded by `patience`.

#include <optional>
#include <string>
#include <utility>

#include <otter/blocking.hpp>
#include <otter/dist/term.hpp>
#include <otter/receive.hpp>
#include <otter/timer.hpp>

#include "../support/otter_test.hpp"
#include "erl_process.hpp"

namespace otter_test {

/// True once erl has printed `line`.
inline otter::task<bool> erl_says(erl_node& e, std::string line) {
  const bool ok = co_await otter::blocking([&] { return e.process.wait_line(line, patience); });
  co_return ok;
}

/// The first term message matching `pred`, or nothing after `patience`.
template <class P>
otter::task<std::optional<otter::term>> term_where(P pred) {
  co_return co_await otter::receive(
      otter::when(pred, [](otter::term t) { return std::optional<otter::term>(std::move(t)); }),
      otter::after(patience, [] { return std::optional<otter::term>(); }));
}

} // namespace otter_test
