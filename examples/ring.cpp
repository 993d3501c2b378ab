// ring: a token travels around a ring of processes.
//
// Each process knows only the next one; the token is a counter that every hop
// decrements. Run: build/examples/ring [processes] [hops]

#include <otter/otter.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

struct token {
  long hops_left;
};

// A ring member first learns its successor, then passes tokens on forever.
// When the token runs out it tells `done`. Members never exit by themselves:
// when the first process returns, node::run stops every process still running.
otter::process member(otter::pid done) {
  const otter::pid next = co_await otter::receive<otter::pid>();
  for (;;) {
    const token t = co_await otter::receive<token>();
    if (t.hops_left == 0)
      otter::send(done, t);
    else
      otter::send(next, token{t.hops_left - 1});
  }
}

otter::process ring(int size, long hops) {
  std::vector<otter::pid> members;
  for (int i = 0; i < size; ++i) members.push_back(otter::spawn(member, otter::self()));
  // Close the ring: tell each member who comes next.
  for (int i = 0; i < size; ++i) otter::send(members[i], members[(i + 1) % size]);

  const auto start = std::chrono::steady_clock::now();
  otter::send(members[0], token{hops});
  co_await otter::receive<token>(); // comes back when hops_left reaches 0
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;

  std::printf("ring: %d processes passed a token %ld times in %.3f s, %.1f ns per hop\n", size, hops,
              took.count(), took.count() * 1e9 / static_cast<double>(hops));
}

int main(int argc, char** argv) {
  try {
    const int size = argc > 1 ? std::atoi(argv[1]) : 503;
    const long hops = argc > 2 ? std::atol(argv[2]) : 10'000'000;
    if (size < 1 || hops < 0) {
      std::fprintf(stderr, "usage: ring [processes >= 1] [hops >= 0]\n");
      return 2;
    }
    otter::node node;
    return node.run(ring, size, hops);
  } catch (const otter::runtime_unavailable& e) {
    // The kernel refused io_uring (a seccomp policy, an old kernel...): say why.
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
