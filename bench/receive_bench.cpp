// Selective receive: the cost of skipping messages that do not match.

#include <benchmark/benchmark.h>

#include <otter/otter.hpp>

#include "bench_support.hpp"

namespace {

struct other {
  int n;
};

// K messages of another type wait in the mailbox; each iteration sends and
// receives one matching message, which means looking past all K.
void selective_receive_skipping(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    const otter::pid me = otter::self();
    const long skipped = s.range(0);
    for (long i = 0; i < skipped; ++i) otter::send(me, other{static_cast<int>(i)});
    for (auto _ : s) {
      otter::send(me, 1L);
      benchmark::DoNotOptimize(co_await otter::receive<long>());
    }
    for (long i = 0; i < skipped; ++i) co_await otter::receive<other>();
  });
}
BENCHMARK(selective_receive_skipping)->Arg(0)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();

// A receive with a guard over one message type, skipping K non-matching values.
void guarded_receive_skipping(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    const otter::pid me = otter::self();
    const long skipped = s.range(0);
    for (long i = 0; i < skipped; ++i) otter::send(me, -1L);
    for (auto _ : s) {
      otter::send(me, 1L);
      benchmark::DoNotOptimize(co_await otter::receive(
          otter::when([](long v) { return v > 0; }, [](long v) { return v; })));
    }
    for (long i = 0; i < skipped; ++i) co_await otter::receive<long>();
  });
}
BENCHMARK(guarded_receive_skipping)->Arg(0)->Arg(10)->Arg(100)->Arg(1000)->Arg(100'000)->UseRealTime();

// The same guarded receive, started from a mailbox_mark made just before the
// send: the K values queued ahead are not examined, so the cost should not
// depend on K (compare guarded_receive_skipping at the same K).
void receive_from_mark(benchmark::State& state) {
  otter_bench::in_process(state, [](benchmark::State& s) -> otter::task<> {
    const otter::pid me = otter::self();
    const long skipped = s.range(0);
    for (long i = 0; i < skipped; ++i) otter::send(me, -1L);
    for (auto _ : s) {
      otter::mailbox_mark mark;
      otter::send(me, 1L);
      benchmark::DoNotOptimize(co_await otter::receive(
          mark, otter::when([](long v) { return v > 0; }, [](long v) { return v; })));
    }
    for (long i = 0; i < skipped; ++i) co_await otter::receive<long>();
  });
}
BENCHMARK(receive_from_mark)->Arg(0)->Arg(1000)->Arg(100'000)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
