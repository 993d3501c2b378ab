#pragma once
// Shared helpers for otter's tests.
//
// Never write co_await inside CHECK/REQUIRE: Catch2's macros repeat their
// argument (in __builtin_constant_p and an unevaluated while condition), and
// g++ turns each copy into a real suspension point, receiving twice. Await into
// a variable, then check it.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <utility>

#include <otter/node.hpp>
#include <otter/spawn.hpp>

namespace otter_test {

using namespace std::chrono_literals;

/// One scheduler, virtual time: interleavings are exact and timeouts fire as
/// soon as nothing else can run, without real waiting.
inline otter::node_options deterministic() {
  otter::node_options o;
  o.schedulers = 1;
  o.virtual_time = true;
  return o;
}

/// One scheduler on real time, for I/O with the kernel.
inline otter::node_options one_core() {
  otter::node_options o;
  o.schedulers = 1;
  return o;
}

/// Two schedulers on real time, for what crosses cores.
inline otter::node_options two_cores() {
  otter::node_options o;
  o.schedulers = 2;
  return o;
}

/// Runs `f(args...)` as the first process of a fresh node and requires that it
/// exits normally (a failed REQUIRE inside it ends it with an error reason).
template <class F, class... A>
void run(otter::node_options options, F&& f, A&&... args) {
  otter::node node(std::move(options));
  const int rc = node.run(std::forward<F>(f), std::forward<A>(args)...);
  INFO("first process exited with " << node.last_exit_reason().to_string());
  REQUIRE(rc == 0);
}

/// Generous bound for waits in real-time tests: a wait that hits it fails the
/// test instead of hanging it.
inline constexpr auto patience = 20s;

/// Runs `body(where)` twice, as sections: on a deterministic one-core node with
/// `where` placing processes beside the caller, and on a two-core node with
/// `where` placing them on the other core.
template <class F>
void on_each_placement(F body) {
  SECTION("on one core") { run(deterministic(), body, otter::spawn_options{}); }
  SECTION("across cores") { run(two_cores(), body, otter::on_scheduler(1)); }
}

} // namespace otter_test
