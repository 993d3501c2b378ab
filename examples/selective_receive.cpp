// selective_receive: pick messages out of the mailbox by type, by guard, or
// give up after a timeout — with timers and registered names on the way.
//
// Run: build/examples/selective_receive

#include <otter/otter.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

struct job {
  int priority;
  std::string name;
};
struct tick {};

// Does urgent jobs first: a guarded clause takes a priority-9 job even when
// ordinary jobs are queued ahead of it; those stay in the mailbox, in order.
otter::process worker() {
  for (;;) {
    const bool more = co_await otter::receive(
        otter::when([](const job& j) { return j.priority == 9; },
                    [](job j) {
                      std::printf("  urgent:   %s\n", j.name.c_str());
                      return true;
                    }),
        otter::after(0ms, [] { return false; })); // nothing urgent queued: stop looking
    if (!more) break;
  }
  // Then the rest, oldest first, until the mailbox stays empty for 50 ms.
  for (;;) {
    const bool more = co_await otter::receive(
        [](job j) {
          std::printf("  ordinary: %s\n", j.name.c_str());
          return true;
        },
        otter::after(50ms, [] { return false; }));
    if (!more) break;
  }
  std::printf("  worker: idle for 50 ms, exiting\n");
}

otter::process boss() {
  const otter::pid w = otter::spawn(worker);
  otter::register_name("worker", w); // now anyone, on any core, can send to "worker"

  // Send by name. The worker has not run yet: the jobs wait in its mailbox.
  otter::send("worker", job{1, "water the plants"});
  otter::send("worker", job{9, "the server is on fire"});
  otter::send("worker", job{1, "answer email"});
  otter::send("worker", job{9, "the backup failed"});
  std::printf("boss: sent 4 jobs to %s\n", otter::to_string(otter::whereis("worker")).c_str());

  // Timers: a message to ourselves later, and a receive that waits at most 1 s.
  otter::send_after(20ms, otter::self(), tick{});
  const auto got = co_await otter::receive<tick>(1s);
  std::printf("boss: %s\n", got ? "tick arrived after 20 ms" : "no tick within 1 s");

  // A registered name dies with its process.
  while (otter::whereis("worker") == w) co_await otter::sleep(10ms);
  std::printf("boss: \"worker\" is no longer registered\n");
}

int main() {
  try {
    otter::node node;
    return node.run(boss);
  } catch (const otter::runtime_unavailable& e) {
    // The kernel refused io_uring (a seccomp policy, an old kernel...): say why.
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
