// Spawning processes: the cost of a process's whole life.

#include <benchmark/benchmark.h>

#include <otter/otter.hpp>

#include "bench_support.hpp"

namespace {

otter::process say_hello(otter::pid parent) {
  otter::send(parent, 1);
  co_return;
}

otter::process exit_at_once() { co_return; }

// Spawn a process that sends one message and exits; wait for the message.
void spawn_exit(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    for (auto _ : s) {
      otter::spawn(say_hello, otter::self());
      co_await otter::receive<int>();
    }
  });
}
BENCHMARK(spawn_exit)->UseRealTime();

// Spawn processes that exit at once, 1,000 at a time, then let them run.
void spawn_exit_batch(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    for (auto _ : s) {
      for (int i = 0; i < 1000; ++i) otter::spawn(exit_at_once);
      co_await otter::yield();
    }
    s.SetItemsProcessed(s.iterations() * 1000);
  });
}
BENCHMARK(spawn_exit_batch)->UseRealTime();

// Spawn onto the other core; the child's message comes back across cores.
void spawn_exit_cross_core(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    for (auto _ : s) {
      otter::spawn(otter::on_scheduler(1), say_hello, otter::self());
      co_await otter::receive<int>();
    }
  });
}
BENCHMARK(spawn_exit_cross_core)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
