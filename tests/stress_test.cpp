// Many processes on both cores, sending to each other at random, with every
// message accounted for.

#include <otter/otter.hpp>

#include <random>
#include <vector>

#include "support/otter_test.hpp"

using namespace otter_test;

namespace {

struct hop {
  int remaining;
};
struct peers {
  std::vector<otter::pid> all;
};
struct finished {
  int handled;
};
struct stop {};

// Passes tokens on to random peers until each token's hop count runs out, then
// reports it to the collector.
otter::process relay(otter::pid collector, unsigned seed) {
  const peers p = co_await otter::receive<peers>();
  std::mt19937 rng(seed);
  int handled = 0;
  for (;;) {
    bool more = co_await otter::receive(
        [&](hop h) {
          ++handled;
          if (h.remaining == 0)
            otter::send(collector, h);
          else
            otter::send(p.all[rng() % p.all.size()], hop{h.remaining - 1});
          return true;
        },
        [](stop) { return false; });
    if (!more) break;
  }
  otter::send(collector, finished{handled});
}

} // namespace

TEST_CASE("stress - thousands of processes on both cores pass messages without losing one",
          "[stress][cross-core]") {
  run(two_cores(), []() -> otter::process {
    constexpr int processes = 4000;
    constexpr int tokens = 2000;
    constexpr int hops = 50;
    peers all;
    for (int i = 0; i < processes; ++i)
      all.all.push_back(otter::spawn(otter::spread(), relay, otter::self(), static_cast<unsigned>(i)));
    for (otter::pid p : all.all) otter::send(p, all);
    for (int t = 0; t < tokens; ++t)
      otter::send(all.all[static_cast<std::size_t>(t) % all.all.size()], hop{hops});
    int arrived = 0;
    while (arrived < tokens) {
      bool ok = co_await otter::receive([](hop) { return true; },
                                        otter::after(patience, [] { return false; }));
      REQUIRE(ok);
      ++arrived;
    }
    for (otter::pid p : all.all) otter::send(p, stop{});
    long handled = 0;
    for (int i = 0; i < processes; ++i) {
      auto f = co_await otter::receive<finished>(patience);
      REQUIRE(f.has_value());
      handled += f->handled;
    }
    CHECK(handled == static_cast<long>(tokens) * (hops + 1));
  });
}
