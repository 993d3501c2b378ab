// bounded_mailbox: overload protection for a slow consumer. A producer that
// sends faster than its consumer takes would grow the consumer's mailbox
// without end (the BEAM's mailboxes are unbounded too). A bound says what
// happens instead, chosen by the consumer:
//
//   drop_oldest  keep the newest N (a ticker, a latest-value feed)
//   drop_newest  keep the first N
//   fail         refuse the sender: send throws otter::mailbox_full,
//                try_send returns false (the sender decides: drop, disconnect)
//   block        senders that co_await send_wait(...) wait for room (back-pressure)
//
//   build/examples/bounded_mailbox

#include <cstdio>

#include <otter/otter.hpp>

using namespace std::chrono_literals;

struct reading {
  int n;
};

// Takes one reading every millisecond: slower than anyone sends.
otter::process slow_consumer(const char* name, otter::pid report_to) {
  int taken = 0, last = -1;
  for (;;) {
    const auto r = co_await otter::receive([](reading x) { return x.n; }, otter::after(50ms, [] { return -1; }));
    if (r < 0) break; // quiet for 50 ms: the producer is done
    ++taken;
    last = r;
    co_await otter::sleep(1ms);
  }
  std::printf("%-12s took %4d readings, the last was #%d, %llu dropped\n", name, taken, last,
              static_cast<unsigned long long>(otter::mailbox_dropped()));
  otter::send(report_to, taken);
}

otter::process main_process() {
  const otter::pid me = otter::self();

  // Latest values matter: keep the newest 10, drop older ones.
  otter::spawn_options newest;
  newest.mailbox = {10, otter::on_full::drop_oldest};
  const otter::pid ticker = otter::spawn(newest, slow_consumer, "drop_oldest", me);
  for (int i = 0; i < 1000; ++i) otter::send(ticker, reading{i}); // never blocks; the mailbox holds at most 10

  // Every value matters: the producer waits for room (back-pressure).
  otter::spawn_options paced;
  paced.mailbox = {10, otter::on_full::block};
  const otter::pid logger = otter::spawn(paced, slow_consumer, "block", me);
  for (int i = 0; i < 100; ++i) {
    const bool sent = co_await otter::send_wait(logger, reading{i}, 1s); // suspends while the mailbox is full
    if (!sent) std::printf("reading #%d: no room within 1 s\n", i);
  }

  // A sender that must not wait asks instead, and learns the consumer is behind.
  otter::spawn_options strict;
  strict.mailbox = {10, otter::on_full::fail};
  const otter::pid audit = otter::spawn(strict, slow_consumer, "fail", me);
  int refused = 0;
  for (int i = 0; i < 100; ++i)
    if (!otter::try_send(audit, reading{i})) ++refused;
  std::printf("fail         refused %d of 100 sends\n", refused);

  for (int k = 0; k < 3; ++k) (void)co_await otter::receive<int>();
}

int main() {
  try {
    otter::node node;
    return node.run(main_process);
  } catch (const otter::runtime_unavailable& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
