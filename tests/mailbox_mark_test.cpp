#include <otter/mailbox_mark.hpp>

#include <stdexcept>
#include <vector>

#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>

#include "support/otter_test.hpp"

using namespace otter_test;

namespace {

struct reply {
  int tag;
  int value;
};
struct probe {
  const otter::mailbox_mark* mark;
  otter::pid from;
};
struct verdict {
  bool threw;
};

// Receives, from `mark`, the first reply with tag `tag`, or -1 at once if none is queued after it.
auto reply_after(const otter::mailbox_mark& mark, int tag) {
  return otter::receive(mark, otter::when([tag](const reply& r) { return r.tag == tag; }, [](reply r) { return r.value; }),
                        otter::after(std::chrono::nanoseconds(0), [] { return -1; }));
}

} // namespace

TEST_CASE("mailbox_mark - a receive from a mark skips what was queued before it, which stays queued",
          "[mailbox_mark]") {
  run(deterministic(), []() -> otter::process {
    otter::send(otter::self(), reply{7, 1}); // before the mark
    otter::mailbox_mark mark;
    otter::send(otter::self(), reply{7, 2}); // after it
    const int from_mark = co_await reply_after(mark, 7);
    CHECK(from_mark == 2);
    const reply older = co_await otter::receive<reply>();
    CHECK(older.value == 1);
  });
}

TEST_CASE("mailbox_mark - messages queued before the mark are not even examined", "[mailbox_mark]") {
  run(deterministic(), []() -> otter::process {
    for (int i = 0; i < 1000; ++i) otter::send(otter::self(), reply{1, i});
    otter::mailbox_mark mark;
    otter::send(otter::self(), reply{1, 1000});
    int examined = 0;
    const int got = co_await otter::receive(mark, otter::when(
                                                      [&examined](const reply&) {
                                                        ++examined;
                                                        return true;
                                                      },
                                                      [](reply r) { return r.value; }));
    CHECK(got == 1000);
    CHECK(examined == 1);
  });
}

TEST_CASE("mailbox_mark - a receive from a mark waits for a message that arrives after it", "[mailbox_mark]") {
  run(deterministic(), []() -> otter::process {
    otter::mailbox_mark mark;
    const otter::pid me = otter::self();
    otter::spawn([me]() -> otter::process {
      otter::send(me, reply{3, 30});
      co_return;
    });
    const int got = co_await otter::receive(mark, [](reply r) { return r.value; });
    CHECK(got == 30);
  });
}

TEST_CASE("mailbox_mark - a mark stays exact when the message just before it is received", "[mailbox_mark]") {
  run(deterministic(), []() -> otter::process {
    otter::send(otter::self(), reply{1, 1});
    otter::send(otter::self(), 5); // the last message before the mark
    otter::mailbox_mark mark;
    const int taken = co_await otter::receive<int>();
    CHECK(taken == 5);
    otter::send(otter::self(), reply{1, 2});
    const int from_mark = co_await reply_after(mark, 1);
    CHECK(from_mark == 2);
    const int none = co_await reply_after(mark, 1);
    CHECK(none == -1);
    const reply older = co_await otter::receive<reply>();
    CHECK(older.value == 1);
  });
}

TEST_CASE("mailbox_mark - a mark stays exact when every message before it is received", "[mailbox_mark]") {
  run(deterministic(), []() -> otter::process {
    otter::send(otter::self(), 1);
    otter::send(otter::self(), 2);
    otter::mailbox_mark mark;
    otter::send(otter::self(), reply{9, 90});
    const int a = co_await otter::receive<int>();
    const int b = co_await otter::receive<int>();
    CHECK(a + b == 3);
    otter::send(otter::self(), reply{9, 91});
    const int first = co_await reply_after(mark, 9);
    const int second = co_await reply_after(mark, 9);
    CHECK(first == 90);
    CHECK(second == 91);
  });
}

TEST_CASE("mailbox_mark - nested marks each keep their own position", "[mailbox_mark]") {
  run(deterministic(), []() -> otter::process {
    otter::mailbox_mark outer;
    otter::send(otter::self(), reply{1, 10});
    {
      otter::mailbox_mark inner;
      otter::send(otter::self(), reply{1, 20});
      const int from_inner = co_await reply_after(inner, 1);
      CHECK(from_inner == 20);
    }
    otter::send(otter::self(), reply{1, 30});
    const int first = co_await reply_after(outer, 1);
    const int second = co_await reply_after(outer, 1);
    CHECK(first == 10);
    CHECK(second == 30);
  });
}

TEST_CASE("mailbox_mark - a timed receive from a mark times out when only older messages match", "[mailbox_mark]") {
  run(deterministic(), []() -> otter::process {
    otter::send(otter::self(), reply{4, 40});
    otter::mailbox_mark mark;
    const int got = co_await otter::receive(mark, [](reply r) { return r.value; },
                                            otter::after(std::chrono::milliseconds(50), [] { return -1; }));
    CHECK(got == -1);
    const reply still = co_await otter::receive<reply>();
    CHECK(still.value == 40);
  });
}

TEST_CASE("mailbox_mark - a mark cannot be used by a process that did not make it", "[mailbox_mark]") {
  run(deterministic(), []() -> otter::process {
    otter::mailbox_mark mark;
    const otter::pid child = otter::spawn([]() -> otter::process {
      const probe p = co_await otter::receive<probe>();
      bool threw = false;
      try {
        co_await otter::receive(*p.mark, [](int) {});
      } catch (const std::logic_error&) {
        threw = true;
      }
      otter::send(p.from, verdict{threw});
    });
    otter::send(child, probe{&mark, otter::self()});
    const verdict v = co_await otter::receive<verdict>();
    CHECK(v.threw);
  });
}

TEST_CASE("mailbox_mark - making a mark outside a process throws", "[mailbox_mark]") {
  CHECK_THROWS_AS(otter::mailbox_mark(), std::logic_error);
}
