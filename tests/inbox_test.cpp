#include "../lib/inbox.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

using otter::detail::envelope;
using otter::detail::inbox;

namespace {

struct item : envelope {
  int producer = 0;
  int seq = 0;
};

} // namespace

TEST_CASE("inbox - each producer's envelopes come out in the order it pushed them",
          "[inbox][cross-core]") {
  constexpr int producers = 4;
  constexpr int per_producer = 20000;
  constexpr int chain = 7; // pushed in chains, as schedulers flush batches
  inbox box;
  std::vector<std::vector<item>> items(producers, std::vector<item>(per_producer));
  std::atomic<int> running{producers};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      auto& mine = items[static_cast<std::size_t>(p)];
      for (int i = 0; i < per_producer; i += chain) {
        // Link newest → oldest, the way a sender accumulates them.
        envelope* newest = nullptr;
        envelope* oldest = nullptr;
        for (int j = i; j < std::min(i + chain, per_producer); ++j) {
          item& it = mine[static_cast<std::size_t>(j)];
          it.producer = p;
          it.seq = j;
          it.next = newest;
          newest = &it;
          if (oldest == nullptr) oldest = &it;
        }
        box.push(newest, oldest);
      }
      --running;
    });
  }
  std::vector<int> next(producers, 0);
  bool in_order = true;
  int received = 0;
  while (received < producers * per_producer) {
    const bool last_round = running.load() == 0;
    for (envelope* e = box.take_all(); e != nullptr; e = e->next) {
      auto* it = static_cast<item*>(e);
      if (it->seq != next[static_cast<std::size_t>(it->producer)]) in_order = false;
      next[static_cast<std::size_t>(it->producer)] = it->seq + 1;
      ++received;
    }
    if (last_round && received < producers * per_producer) break; // nothing more can come
  }
  for (auto& t : threads) t.join();
  CHECK(in_order);
  CHECK(received == producers * per_producer);
  CHECK(box.empty());
}
