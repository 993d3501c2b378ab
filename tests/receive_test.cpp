#include <otter/receive.hpp>

#include <string>
#include <variant>
#include <vector>

#include <otter/process.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/timer.hpp>

#include "support/otter_test.hpp"

using namespace otter_test;

namespace {

struct tagged {
  int tag;
  int value;
};

} // namespace

TEST_CASE("receive - takes the first matching message in arrival order", "[receive]") {
  run(deterministic(), []() -> otter::process {
    otter::send(otter::self(), 1);
    otter::send(otter::self(), 2);
    otter::send(otter::self(), 3);
    auto got14 = co_await otter::receive<int>();
    CHECK(got14 == 1);
    auto got15 = co_await otter::receive<int>();
    CHECK(got15 == 2);
    auto got16 = co_await otter::receive<int>();
    CHECK(got16 == 3);
  });
}

TEST_CASE("receive - skips messages that match no clause and leaves them queued in order",
          "[receive]") {
  run(deterministic(), []() -> otter::process {
    otter::send(otter::self(), std::string("a"));
    otter::send(otter::self(), 1.5);
    otter::send(otter::self(), std::string("b"));
    otter::send(otter::self(), 42);
    auto got17 = co_await otter::receive<int>();
    CHECK(got17 == 42);
    auto got18 = co_await otter::receive<double>();
    CHECK(got18 == 1.5);
    auto got19 = co_await otter::receive<std::string>();
    CHECK(got19 == "a");
    auto got20 = co_await otter::receive<std::string>();
    CHECK(got20 == "b");
  });
}

TEST_CASE("receive - the first message matching any clause wins, whatever the clause order",
          "[receive]") {
  run(deterministic(), []() -> otter::process {
    otter::send(otter::self(), std::string("first"));
    otter::send(otter::self(), 7);
    std::string got = co_await otter::receive([](int n) { return std::to_string(n); },
                                              [](std::string s) { return s; });
    CHECK(got == "first");
  });
}

TEST_CASE("receive - when() matches only messages its predicate accepts", "[receive]") {
  run(deterministic(), []() -> otter::process {
    for (int tag : {1, 2, 3, 2}) otter::send(otter::self(), tagged{tag, tag * 10});
    int v = co_await otter::receive(
        otter::when([](const tagged& t) { return t.tag == 2; }, [](tagged t) { return t.value; }));
    CHECK(v == 20);
    // The others are still there, in order.
    auto got21 = co_await otter::receive<tagged>();
    CHECK(got21.tag == 1);
    auto got22 = co_await otter::receive<tagged>();
    CHECK(got22.tag == 3);
    auto got23 = co_await otter::receive<tagged>();
    CHECK(got23.tag == 2);
  });
}

TEST_CASE("receive - a predicate that throws counts as no match", "[receive]") {
  run(deterministic(), []() -> otter::process {
    otter::send(otter::self(), 1);
    otter::send(otter::self(), 2);
    int v = co_await otter::receive(otter::when(
        [](int n) -> bool {
          if (n == 1) throw std::runtime_error("bad guard");
          return true;
        },
        [](int n) { return n; }));
    CHECK(v == 2);
  });
}

TEST_CASE("receive - after fires when no message matches in time", "[receive][timer]") {
  run(deterministic(), []() -> otter::process {
    otter::send(otter::self(), std::string("not an int"));
    bool timed_out = co_await otter::receive([](int) { return false; },
                                             otter::after(50ms, [] { return true; }));
    CHECK(timed_out);
    auto got24 = co_await otter::receive<std::string>();
    CHECK(got24 == "not an int");
  });
}

TEST_CASE("receive - after does not fire when a message matches in time", "[receive][timer]") {
  run(deterministic(), []() -> otter::process {
    otter::pid me = otter::self();
    otter::spawn([](otter::pid to) -> otter::process {
      co_await otter::sleep(10ms);
      otter::send(to, 5);
    }, me);
    int got = co_await otter::receive([](int n) { return n; }, otter::after(50ms, [] { return -1; }));
    CHECK(got == 5);
    // The cancelled timeout must not fire later either.
    auto late = co_await otter::receive<int>(100ms);
    CHECK_FALSE(late.has_value());
  });
}

TEST_CASE("receive - after(0) looks only at messages already queued", "[receive][timer]") {
  run(deterministic(), []() -> otter::process {
    auto none = co_await otter::receive<int>(0ms);
    CHECK_FALSE(none.has_value());
    otter::send(otter::self(), 3);
    auto three = co_await otter::receive<int>(0ms);
    REQUIRE(three.has_value());
    CHECK(*three == 3);
  });
}

TEST_CASE("receive - a message that arrives while waiting is examined once, not rescanned",
          "[receive]") {
  run(deterministic(), []() -> otter::process {
    int evaluations = 0;
    for (int i = 0; i < 10; ++i) otter::send(otter::self(), i);
    otter::pid me = otter::self();
    otter::spawn([](otter::pid to) -> otter::process {
      for (int i = 10; i < 20; ++i) {
        otter::send(to, i);
        co_await otter::yield();
      }
      otter::send(to, 100);
    }, me);
    int got = co_await otter::receive(otter::when(
        [&evaluations](int n) {
          ++evaluations;
          return n == 100;
        },
        [](int n) { return n; }));
    CHECK(got == 100);
    CHECK(evaluations == 21); // each of the 21 messages looked at exactly once
  });
}

TEST_CASE("receive - several types at once yield a variant of the first to arrive", "[receive]") {
  run(deterministic(), []() -> otter::process {
    otter::send(otter::self(), 2.5);
    otter::send(otter::self(), 1);
    auto v = co_await otter::receive<int, double>();
    REQUIRE(std::holds_alternative<double>(v));
    CHECK(std::get<double>(v) == 2.5);
  });
}

TEST_CASE("receive - a handler taking a non-const reference may modify the message", "[receive]") {
  run(deterministic(), []() -> otter::process {
    otter::send(otter::self(), std::vector<int>{1, 2});
    auto size = co_await otter::receive([](std::vector<int>& v) {
      v.push_back(3);
      return v.size();
    });
    CHECK(size == 3);
  });
}

TEST_CASE("receive - move-only messages are moved to the handler", "[receive]") {
  run(deterministic(), []() -> otter::process {
    otter::send(otter::self(), std::make_unique<int>(9));
    auto p = co_await otter::receive<std::unique_ptr<int>>();
    REQUIRE(p);
    CHECK(*p == 9);
  });
}

TEST_CASE("receive - outside a process throws logic_error", "[receive]") {
  auto r = otter::receive<int>();
  CHECK_THROWS_AS(r.await_ready(), std::logic_error);
}
