// Links and exit signals: what a crash costs the processes linked to it.

#include <benchmark/benchmark.h>

#include <otter/otter.hpp>

#include "bench_support.hpp"

namespace {

otter::process exit_with(otter::exit_reason reason) {
  otter::exit(reason);
  co_return;
}

otter::process wait_forever() { co_await otter::receive<int>(); }

// spawn_link a child that exits abnormally; the trapping parent gets its EXIT.
void link_exit(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    otter::trap_exit(true);
    const otter::exit_reason reason = otter::exit_reason::custom("bench");
    for (auto _ : s) {
      otter::spawn_link(exit_with, reason);
      benchmark::DoNotOptimize(co_await otter::receive<otter::exit_message>());
    }
  });
}
BENCHMARK(link_exit)->UseRealTime();

// The same with the child on the other core.
void link_exit_cross_core(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    otter::trap_exit(true);
    const otter::exit_reason reason = otter::exit_reason::custom("bench");
    for (auto _ : s) {
      otter::spawn_link(otter::on_scheduler(1), exit_with, reason);
      benchmark::DoNotOptimize(co_await otter::receive<otter::exit_message>());
    }
  });
}
BENCHMARK(link_exit_cross_core)->UseRealTime();

// link and unlink a live process: the bookkeeping of a link on both sides.
void link_unlink(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    const otter::pid other = otter::spawn(wait_forever);
    for (auto _ : s) {
      otter::link(other);
      otter::unlink(other);
    }
    otter::send(other, 0);
    co_return;
  });
}
BENCHMARK(link_unlink)->UseRealTime();

// exit(pid, kill) on a waiting process, noticed through a monitor.
void kill_and_down(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    for (auto _ : s) {
      auto [victim, ref] = otter::spawn_monitor(wait_forever);
      otter::exit(victim, otter::exit_reason::kill());
      benchmark::DoNotOptimize(co_await otter::receive<otter::down_message>());
    }
  });
}
BENCHMARK(kill_and_down)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
