// ping_pong: two processes bounce a message back and forth.
//
// Shows the three things every otter program does: spawn a process, send it
// a message, and co_await a receive. Run: build/examples/ping_pong [rounds]

#include <otter/otter.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

// Messages are plain C++ types. Receivers match them by type.
struct ping {
  otter::pid reply_to; // pids are small values: put them in messages
  long n;
};
struct pong {
  long n;
};
struct stop {};

// A process body is a coroutine returning otter::process.
otter::process ponger() {
  for (;;) {
    // receive() waits for the first message that matches one of its handlers
    // and returns what that handler returns.
    const bool more = co_await otter::receive(
        [](const ping& p) {
          otter::send(p.reply_to, pong{p.n}); // send never blocks
          return true;
        },
        [](stop) { return false; });
    if (!more) co_return; // returning ends the process with reason `normal`
  }
}

otter::process pinger(long rounds) {
  // spawn() starts a process and hands back its pid at once. By default the
  // child runs on the same core (scheduler) as its parent.
  const otter::pid partner = otter::spawn(ponger);
  std::printf("pinger %s spawned ponger %s\n", otter::to_string(otter::self()).c_str(),
              otter::to_string(partner).c_str());

  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < rounds; ++i) {
    otter::send(partner, ping{otter::self(), i});
    // receive<T>() is the short form: wait for a T and return it.
    const pong reply = co_await otter::receive<pong>();
    if (reply.n != i) throw std::logic_error("out of order"); // would crash the process
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  otter::send(partner, stop{});

  std::printf("ping-pong: %ld round trips in %.3f s, %.1f ns per round trip\n", rounds, took.count(),
              took.count() * 1e9 / static_cast<double>(rounds));
}

int main(int argc, char** argv) {
  try {
    const long rounds = argc > 1 ? std::atol(argv[1]) : 1'000'000;
    // A node runs one scheduler per core. run() starts the first process and
    // returns when it exits: 0 if it exited normally.
    otter::node node;
    return node.run(pinger, rounds);
  } catch (const otter::runtime_unavailable& e) {
    // The kernel refused io_uring (a seccomp policy, an old kernel...): say why.
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
