#pragma once
// Runs a Google benchmark's loop inside an otter process.

#include <benchmark/benchmark.h>

#include <otter/otter.hpp>

namespace otter_bench {

/// The node the micro benchmarks share: two schedulers, one per core.
inline otter::node& shared_node() {
  static otter::node node([] {
    otter::node_options o;
    o.schedulers = 2;
    return o;
  }());
  return node;
}

/// Runs `body(state)` — a coroutine returning otter::task<> — as the first
/// process of the shared node (on scheduler 0) and waits for it.
template <class Body>
void in_process(benchmark::State& state, Body body) {
  const int rc = shared_node().run(
      [](benchmark::State* s, Body* b) -> otter::process { co_await (*b)(*s); }, &state, &body);
  if (rc != 0) state.SkipWithError(shared_node().last_exit_reason().to_string().c_str());
}

} // namespace otter_bench
