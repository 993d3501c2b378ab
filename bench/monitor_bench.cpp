// Monitors: DOWN messages, and the monitor/demonitor pair every call makes.

#include <benchmark/benchmark.h>

#include <otter/otter.hpp>

#include "bench_support.hpp"

namespace {

otter::process exit_at_once() { co_return; }
otter::process wait_forever() { co_await otter::receive<int>(); }

// spawn_monitor a child that exits at once; receive its DOWN.
void monitor_down(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    for (auto _ : s) {
      otter::spawn_monitor(exit_at_once);
      benchmark::DoNotOptimize(co_await otter::receive<otter::down_message>());
    }
  });
}
BENCHMARK(monitor_down)->UseRealTime();

// The same with the child on the other core.
void monitor_down_cross_core(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    for (auto _ : s) {
      otter::spawn_monitor(otter::on_scheduler(1), exit_at_once);
      benchmark::DoNotOptimize(co_await otter::receive<otter::down_message>());
    }
  });
}
BENCHMARK(monitor_down_cross_core)->UseRealTime();

// Monitor a live process and take the monitor back.
void monitor_demonitor(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    const otter::pid other = otter::spawn(wait_forever);
    for (auto _ : s) benchmark::DoNotOptimize(otter::demonitor(otter::monitor(other)));
    otter::send(other, 0);
    co_return;
  });
}
BENCHMARK(monitor_demonitor)->UseRealTime();

// A dead pid: the DOWN noproc comes at once.
void monitor_dead_pid(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    const otter::pid gone = otter::spawn(exit_at_once);
    co_await otter::yield();
    for (auto _ : s) {
      otter::monitor(gone);
      benchmark::DoNotOptimize(co_await otter::receive<otter::down_message>());
    }
  });
}
BENCHMARK(monitor_dead_pid)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
