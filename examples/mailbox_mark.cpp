// mailbox_mark: wait for the answer to a request without wading through a
// long mailbox. A receive examines the queued messages from the oldest, as
// Erlang's does; a mailbox_mark made just before the request is sent lets the
// receive start after everything that was queued already — the C++ form of
// Erlang's `Ref = make_ref(), Server ! {Ref, Req}, receive {Ref, Reply} -> ...`.
//
// Run: build/examples/mailbox_mark

#include <otter/otter.hpp>

#include <chrono>
#include <cstdio>

struct event {
  int n;
};
struct question {
  otter::pid from;
  otter::ref tag;
  int x;
};
struct answer {
  otter::ref tag;
  int value;
};

otter::process squarer() {
  for (;;) {
    const question q = co_await otter::receive<question>();
    otter::send(q.from, answer{q.tag, q.x * q.x});
  }
}

otter::process main_process() {
  const otter::pid server = otter::spawn(squarer);
  // A backlog: 100,000 events this process will deal with later.
  for (int i = 0; i < 100'000; ++i) otter::send(otter::self(), event{i});

  const auto ask = [server](bool with_mark, int rounds) -> otter::task<long> {
    long sum = 0;
    for (int x = 0; x < rounds; ++x) {
      const otter::ref tag = otter::make_ref();
      otter::mailbox_mark mark; // before the question goes out: the answer can only come after it
      otter::send(server, question{otter::self(), tag, x});
      auto wanted = otter::when([tag](const answer& a) { return a.tag == tag; }, [](answer a) { return a.value; });
      sum += with_mark ? co_await otter::receive(mark, wanted) : co_await otter::receive(wanted);
    }
    co_return sum;
  };

  for (const bool with_mark : {false, true}) {
    const int rounds = with_mark ? 10'000 : 100;
    const auto t0 = std::chrono::steady_clock::now();
    const long sum = co_await ask(with_mark, rounds);
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%-22s %6d questions behind 100,000 queued events: %8.2f us each (sum %ld)\n",
                with_mark ? "receive(mark, ...):" : "receive(...):", rounds, us / rounds, sum);
  }

  // The backlog is all still there, in order.
  const event first = co_await otter::receive<event>();
  std::printf("the backlog is intact: the first queued event is still #%d\n", first.n);
}

int main() {
  try {
    otter::node node;
    return node.run(main_process);
  } catch (const otter::runtime_unavailable& e) {
    // The kernel refused io_uring (a seccomp policy, an old kernel...): say why.
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
