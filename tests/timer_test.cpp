#include <otter/timer.hpp>

#include <string>
#include <vector>

#include <otter/node.hpp>
#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>

#include "support/otter_test.hpp"

using namespace otter_test;

TEST_CASE("send_after - delivers after the delay, in deadline order", "[timer]") {
  run(deterministic(), []() -> otter::process {
    otter::send_after(30ms, otter::self(), std::string("thirty"));
    otter::send_after(10ms, otter::self(), std::string("ten"));
    otter::send_after(20ms, otter::self(), std::string("twenty"));
    auto got1 = co_await otter::receive<std::string>(5ms);
    CHECK_FALSE(got1.has_value());
    auto got2 = co_await otter::receive<std::string>();
    CHECK(got2 == "ten");
    auto got3 = co_await otter::receive<std::string>();
    CHECK(got3 == "twenty");
    auto got4 = co_await otter::receive<std::string>();
    CHECK(got4 == "thirty");
  });
}

TEST_CASE("send_after - works for long delays beyond the wheel's first levels", "[timer]") {
  run(deterministic(), []() -> otter::process {
    otter::send_after(std::chrono::hours(30), otter::self(), 2);
    otter::send_after(std::chrono::minutes(3), otter::self(), 1);
    auto got5 = co_await otter::receive<int>();
    CHECK(got5 == 1);
    auto got6 = co_await otter::receive<int>();
    CHECK(got6 == 2);
  });
}

TEST_CASE("cancel_timer - a cancelled timer never delivers", "[timer]") {
  run(deterministic(), []() -> otter::process {
    otter::timer_ref t = otter::send_after(10ms, otter::self(), 1);
    CHECK(otter::cancel_timer(t));
    auto got7 = co_await otter::receive<int>(50ms);
    CHECK_FALSE(got7.has_value());
  });
}

TEST_CASE("cancel_timer - returns false once the timer has fired", "[timer]") {
  run(deterministic(), []() -> otter::process {
    otter::timer_ref t = otter::send_after(1ms, otter::self(), 1);
    auto got8 = co_await otter::receive<int>();
    CHECK(got8 == 1);
    CHECK_FALSE(otter::cancel_timer(t));
    CHECK_FALSE(otter::cancel_timer(t));
  });
}

TEST_CASE("send_after - the timer outlives the process that started it", "[timer]") {
  run(deterministic(), []() -> otter::process {
    otter::spawn([](otter::pid to) -> otter::process {
      otter::send_after(20ms, to, std::string("from beyond"));
      co_return;
    }, otter::self());
    auto got9 = co_await otter::receive<std::string>();
    CHECK(got9 == "from beyond");
  });
}

TEST_CASE("send_after - to a process on another core", "[timer][cross-core]") {
  run(two_cores(), []() -> otter::process {
    otter::pid me = otter::self();
    otter::spawn(otter::on_scheduler(1), [](otter::pid to) -> otter::process {
      otter::send_after(2ms, to, 7);
      co_return;
    }, me);
    auto got = co_await otter::receive<int>(patience);
    REQUIRE(got.has_value());
    CHECK(*got == 7);
  });
}

TEST_CASE("sleep - resumes after the duration, in deadline order", "[timer]") {
  run(deterministic(), []() -> otter::process {
    auto sleeper = [](otter::pid to, int ms) -> otter::process {
      co_await otter::sleep(std::chrono::milliseconds(ms));
      otter::send(to, ms);
    };
    otter::spawn(sleeper, otter::self(), 30);
    otter::spawn(sleeper, otter::self(), 10);
    otter::spawn(sleeper, otter::self(), 20);
    auto got10 = co_await otter::receive<int>();
    CHECK(got10 == 10);
    auto got11 = co_await otter::receive<int>();
    CHECK(got11 == 20);
    auto got12 = co_await otter::receive<int>();
    CHECK(got12 == 30);
  });
}

TEST_CASE("sleep - really waits at least the duration on the real clock", "[timer]") {
  otter::node_options o;
  o.schedulers = 1;
  otter::node node(o);
  const auto start = std::chrono::steady_clock::now();
  const int rc3 = node.run([]() -> otter::process { co_await otter::sleep(15ms); });
  CHECK(rc3 == 0);
  CHECK(std::chrono::steady_clock::now() - start >= 15ms);
}

TEST_CASE("sleep - messages that arrive meanwhile stay queued", "[timer]") {
  run(deterministic(), []() -> otter::process {
    otter::send(otter::self(), 1);
    co_await otter::sleep(5ms);
    auto got13 = co_await otter::receive<int>();
    CHECK(got13 == 1);
  });
}

TEST_CASE("sleep - a process killed while asleep leaves no timer behind", "[timer]") {
  otter::node node(deterministic());
  const int rc4 = node.run([]() -> otter::process {
    otter::spawn([]() -> otter::process { co_await otter::sleep(std::chrono::hours(1)); });
    co_await otter::yield();
  });
  CHECK(rc4 == 0);
  // The sleeper was killed with its timer armed; a second run must not see it fire.
  const int rc5 = node.run([]() -> otter::process { co_await otter::sleep(std::chrono::hours(2)); });
  CHECK(rc5 == 0);
}
