// Message passing on one core and across cores.

#include <benchmark/benchmark.h>

#include <otter/otter.hpp>

#include "bench_support.hpp"

namespace {

struct ping {
  otter::pid from;
};
struct pong {};
struct stop {};

otter::process ponger() {
  for (;;) {
    const bool more = co_await otter::receive(
        [](ping p) {
          otter::send(p.from, pong{});
          return true;
        },
        [](stop) { return false; });
    if (!more) co_return;
  }
}

// Producer for the throughput benchmarks: sends `count` numbers, then stops.
otter::process producer(otter::pid to, long count) {
  for (long i = 0; i < count; ++i) otter::send(to, i);
  co_return;
}

// A process sends itself a message and receives it.
void send_receive_local(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    const otter::pid me = otter::self();
    for (auto _ : s) {
      otter::send(me, 1L);
      benchmark::DoNotOptimize(co_await otter::receive<long>());
    }
  });
}
BENCHMARK(send_receive_local)->UseRealTime();

// A stream of messages from a process on the other core (throughput).
void send_receive_cross_core(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    otter::spawn(otter::on_scheduler(1), producer, otter::self(), static_cast<long>(s.max_iterations));
    for (auto _ : s) benchmark::DoNotOptimize(co_await otter::receive<long>());
  });
}
BENCHMARK(send_receive_cross_core)->UseRealTime();

// Round trips between two processes on one core.
void pingpong_local(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    const otter::pid peer = otter::spawn(ponger);
    const otter::pid me = otter::self();
    for (auto _ : s) {
      otter::send(peer, ping{me});
      co_await otter::receive<pong>();
    }
    otter::send(peer, stop{});
  });
}
BENCHMARK(pingpong_local)->UseRealTime();

// Round trips between processes on different cores (latency).
void pingpong_cross_core(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    const otter::pid peer = otter::spawn(otter::on_scheduler(1), ponger);
    const otter::pid me = otter::self();
    for (auto _ : s) {
      otter::send(peer, ping{me});
      co_await otter::receive<pong>();
    }
    otter::send(peer, stop{});
  });
}
BENCHMARK(pingpong_cross_core)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
