#include <otter/mailbox_limit.hpp>

#include <optional>
#include <vector>

#include <otter/gen_server.hpp>
#include <otter/link.hpp>
#include <otter/monitor.hpp>
#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/timer.hpp>

#include "support/await.hpp"
#include "support/otter_test.hpp"

using namespace otter_test;

namespace {

struct item {
  int n;
};
struct report {
  std::vector<int> items;
  std::uint64_t dropped;
};

otter::spawn_options bounded(std::uint32_t n, otter::on_full policy, otter::spawn_options where = {}) {
  where.mailbox = {n, policy};
  return where;
}

// Lets its sender run first, then takes every item queued and reports them to `to`.
otter::process drain_after_pause(otter::pid to) {
  co_await otter::sleep(std::chrono::milliseconds(1));
  report r;
  for (;;) {
    auto got = co_await otter::receive([](item i) { return std::optional<int>(i.n); },
                                       otter::after(std::chrono::nanoseconds(0), [] { return std::optional<int>(); }));
    if (!got) break;
    r.items.push_back(*got);
  }
  r.dropped = otter::mailbox_dropped();
  otter::send(to, std::move(r));
}

// Takes nothing, ever.
struct never_sent {};
otter::process never_takes() { co_await otter::receive<never_sent>(); }

// Takes one item every 5 ms, forever, and tells `to` what it took (if `to`).
otter::process take_slowly(otter::pid to) {
  for (;;) {
    co_await otter::sleep(std::chrono::milliseconds(5));
    const item i = co_await otter::receive<item>();
    if (to) otter::send(to, i.n);
  }
}

otter::task<report> report_of() {
  co_return co_await otter::receive([](report r) { return r; }, otter::after(patience, [] { return report{}; }));
}

} // namespace

TEST_CASE("mailbox_limit - drop_newest keeps the first messages and drops what comes when full", "[mailbox_limit]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid p = otter::spawn(bounded(3, otter::on_full::drop_newest), drain_after_pause, otter::self());
    for (int i = 0; i < 10; ++i) otter::send(p, item{i});
    const report r = co_await report_of();
    CHECK(r.items == std::vector<int>{0, 1, 2});
    CHECK(r.dropped == 7);
  });
}

TEST_CASE("mailbox_limit - drop_oldest keeps the newest messages", "[mailbox_limit]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid p = otter::spawn(bounded(3, otter::on_full::drop_oldest), drain_after_pause, otter::self());
    for (int i = 0; i < 10; ++i) otter::send(p, item{i});
    const report r = co_await report_of();
    CHECK(r.items == std::vector<int>{7, 8, 9});
    CHECK(r.dropped == 7);
  });
}

TEST_CASE("mailbox_limit - fail makes send throw mailbox_full in the sender and try_send return false",
          "[mailbox_limit]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid p = otter::spawn(bounded(2, otter::on_full::fail), drain_after_pause, otter::self());
    otter::send(p, item{0});
    CHECK(otter::try_send(p, item{1}));
    CHECK_FALSE(otter::try_send(p, item{2}));
    bool threw = false;
    try {
      otter::send(p, item{3});
    } catch (const otter::mailbox_full& e) {
      threw = e.to() == p;
    }
    CHECK(threw);
    co_return;
  });
}

TEST_CASE("mailbox_limit - exit and DOWN messages are never refused or dropped by a bound", "[mailbox_limit]") {
  run(deterministic(), []() -> otter::process {
    otter::trap_exit(true);
    otter::set_mailbox_limit({1, otter::on_full::drop_newest});
    otter::send(otter::self(), item{0}); // the mailbox is full from here on
    const otter::pid child = otter::spawn_link([]() -> otter::process { co_return; });
    const otter::ref m = otter::monitor(otter::spawn([]() -> otter::process { co_return; }));
    const auto exit = co_await exit_from(child);
    CHECK(exit.has_value());
    const auto down = co_await down_of(m);
    CHECK(down.has_value());
    CHECK(otter::mailbox_dropped() == 0);
  });
}

TEST_CASE("mailbox_limit - send_wait waits until the receiver takes a message, then delivers", "[mailbox_limit]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid p = otter::spawn(bounded(1, otter::on_full::block), take_slowly, otter::pid{});
    const bool first = co_await otter::send_wait(p, item{0});
    CHECK(first);
    CHECK_FALSE(otter::try_send(p, item{1})); // full until the receiver takes item 0
    const bool second = co_await otter::send_wait(p, item{2}, std::chrono::seconds(1));
    CHECK(second);
    CHECK(otter::monotonic_time() >= std::chrono::milliseconds(5)); // it had to wait for the take
  });
}

TEST_CASE("mailbox_limit - senders waiting for room are let in in the order they began to wait", "[mailbox_limit]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid me = otter::self();
    const otter::pid p = otter::spawn(bounded(1, otter::on_full::block), take_slowly, me);
    otter::send(p, item{0});
    for (int n = 1; n <= 3; ++n)
      otter::spawn([](otter::pid to, int n) -> otter::process { (void)co_await otter::send_wait(to, item{n}); }, p, n);
    std::vector<int> taken;
    for (int k = 0; k < 4; ++k) taken.push_back(co_await otter::receive<int>());
    CHECK(taken == std::vector<int>{0, 1, 2, 3});
  });
}

TEST_CASE("mailbox_limit - a sender killed while waiting for room does not take the room from the next one",
          "[mailbox_limit]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid me = otter::self();
    const otter::pid p = otter::spawn(bounded(1, otter::on_full::block), take_slowly, me);
    otter::send(p, item{0});
    auto waiter = [](otter::pid to, int n) -> otter::process { (void)co_await otter::send_wait(to, item{n}); };
    const otter::pid doomed = otter::spawn(waiter, p, 1);
    otter::spawn(waiter, p, 2);
    co_await otter::sleep(std::chrono::milliseconds(1)); // both wait now (virtual time)
    otter::exit(doomed, otter::exit_reason::killed());
    std::vector<int> taken;
    for (int k = 0; k < 2; ++k) taken.push_back(co_await otter::receive<int>());
    CHECK(taken == std::vector<int>{0, 2});
  });
}

TEST_CASE("mailbox_limit - send_wait gives up with false when the timeout passes first", "[mailbox_limit]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid p = otter::spawn(bounded(1, otter::on_full::block), never_takes);
    otter::send(p, item{0});
    const bool sent = co_await otter::send_wait(p, item{1}, std::chrono::milliseconds(50));
    CHECK_FALSE(sent);
  });
}

TEST_CASE("mailbox_limit - send_wait to a fail mailbox that is full returns false at once", "[mailbox_limit]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid p = otter::spawn(bounded(1, otter::on_full::fail), never_takes);
    otter::send(p, item{0});
    const bool sent = co_await otter::send_wait(p, item{1});
    CHECK_FALSE(sent);
    CHECK(otter::monotonic_time() == std::chrono::nanoseconds(0));
  });
}

TEST_CASE("mailbox_limit - a slow consumer flooded by a fast producer never holds more than its bound",
          "[mailbox_limit]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid me = otter::self();
    const otter::pid p = otter::spawn(bounded(100, otter::on_full::drop_oldest), [](otter::pid to) -> otter::process {
      std::uint32_t most = 0;
      for (int k = 0; k < 50; ++k) {
        co_await otter::sleep(std::chrono::milliseconds(1));
        most = std::max(most, otter::mailbox_queued());
        (void)co_await otter::receive<item>();
      }
      otter::send(to, most);
    }, me);
    for (int round = 0; round < 50; ++round) {
      for (int i = 0; i < 1000; ++i) otter::send(p, item{i});
      co_await otter::sleep(std::chrono::milliseconds(1));
    }
    const std::uint32_t most = co_await otter::receive<std::uint32_t>();
    CHECK(most <= 100);
    CHECK(most > 0);
  });
}

TEST_CASE("mailbox_limit - drop_oldest never drops the message a receive has matched", "[mailbox_limit]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid me = otter::self();
    const otter::pid p = otter::spawn(bounded(2, otter::on_full::drop_oldest), [](otter::pid to) -> otter::process {
      const item got = co_await otter::receive(otter::when([](const item& i) { return i.n == 99; }, [](item i) { return i; }));
      otter::send(to, got.n);
    }, me);
    co_await otter::sleep(std::chrono::milliseconds(1)); // the receiver waits for 99 now
    otter::send(p, item{99}); // matches: the receiver is ready but has not taken it yet
    for (int i = 0; i < 10; ++i) otter::send(p, item{i}); // a flood before it runs
    const int got = co_await otter::receive([](int n) { return n; }, otter::after(patience, [] { return -1; }));
    CHECK(got == 99);
  });
}

namespace {
struct add {
  int n;
};
struct total {};
class summer {
public:
  void handle_cast(add a) { sum_ += a.n; }
  int handle_call(total) { return sum_; }

private:
  int sum_ = 0;
};
} // namespace

TEST_CASE("mailbox_limit - a cast to a gen_server whose mailbox refuses senders throws mailbox_full",
          "[mailbox_limit]") {
  run(deterministic(), []() -> otter::process {
    otter::gen_server::start_options o;
    o.spawn.mailbox = {2, otter::on_full::fail};
    auto server = co_await otter::gen_server::start_link<summer>(o);
    REQUIRE(server);
    otter::gen_server::cast(*server, add{1});
    otter::gen_server::cast(*server, add{2}); // the server has not run since: its mailbox is full
    bool refused = false;
    try {
      otter::gen_server::cast(*server, add{4});
    } catch (const otter::mailbox_full&) {
      refused = true;
    }
    CHECK(refused);
    co_await otter::sleep(std::chrono::milliseconds(1)); // the server takes the two casts
    const int sum = co_await otter::gen_server::call(*server, total{});
    CHECK(sum == 3);
  });
}

TEST_CASE("mailbox_limit - across cores, fail refuses senders exactly at the bound", "[mailbox_limit][cross-core]") {
  run(two_cores(), []() -> otter::process {
    const otter::pid p = otter::spawn(bounded(50, otter::on_full::fail, otter::on_scheduler(1)), drain_after_pause, otter::self());
    int accepted = 0;
    for (int i = 0; i < 200; ++i)
      if (otter::try_send(p, item{i})) ++accepted;
    CHECK(accepted == 50);
    co_return;
  });
}

TEST_CASE("mailbox_limit - across cores, send_wait is let in when the receiver on the other core takes",
          "[mailbox_limit][cross-core]") {
  run(two_cores(), []() -> otter::process {
    const otter::pid me = otter::self();
    const otter::pid p = otter::spawn(bounded(4, otter::on_full::block, otter::on_scheduler(1)), take_slowly, me);
    int sent = 0;
    for (int i = 0; i < 20; ++i) {
      const bool ok = co_await otter::send_wait(p, item{i}, patience);
      if (ok) ++sent;
    }
    CHECK(sent == 20);
    std::vector<int> taken;
    for (int k = 0; k < 20; ++k) taken.push_back(co_await otter::receive<int>());
    std::vector<int> expected;
    for (int i = 0; i < 20; ++i) expected.push_back(i);
    CHECK(taken == expected);
  });
}
