#pragma once
// Waits shared by the tests that talk to real Erlang from inside an otter
// process: for a line of erl's output (off the scheduler threads), and for a
// term message. Both bounded by `patience`.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <otter/blocking.hpp>
#include <otter/dist/options.hpp>
#include <otter/node.hpp>
#include <otter/dist/term.hpp>
#include <otter/receive.hpp>
#include <otter/timer.hpp>

#include "../support/otter_test.hpp"
#include "erl_process.hpp"

namespace otter_test {

/// An otter node `o@localhost` on two schedulers, registered with the private
/// epmd on `epmd_port` that the erl nodes of a test use.
inline otter::node_options erl_peer_node(const char* cookie, std::uint16_t epmd_port) {
  otter::node_options o;
  o.schedulers = 2;
  o.distribution.name = "o@localhost";
  o.distribution.cookie = cookie;
  o.distribution.epmd_port = epmd_port;
  o.distribution.epmd = otter::dist::epmd_mode::use;
  return o;
}

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
