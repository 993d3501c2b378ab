// A process killed while suspended is torn down safely: its coroutine chain
// is destroyed, destructors run, timers are cancelled, links and monitors fire.

#include <otter/link.hpp>

#include <atomic>
#include <memory>

#include <otter/monitor.hpp>
#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/task.hpp>
#include <otter/timer.hpp>

#include "support/await.hpp"
#include "support/otter_test.hpp"

using namespace otter_test;

namespace {

struct ready {};

struct flag_on_destroy {
  std::shared_ptr<std::atomic<int>> count;
  ~flag_on_destroy() {
    if (count) ++*count;
  }
};

otter::task<> nested_wait(std::shared_ptr<std::atomic<int>> count) {
  flag_on_destroy guard{std::move(count)};
  co_await otter::receive<double>(); // never sent
}

otter::process suspended(otter::pid parent, int how, std::shared_ptr<std::atomic<int>> count) {
  flag_on_destroy guard{count};
  auto owned = std::make_unique<int[]>(1000); // ASan would see a leak
  otter::send(parent, ready{});
  switch (how) {
  case 0:
    co_await otter::receive<double>();
    break;
  case 1:
    co_await otter::receive([](double) {}, otter::after(std::chrono::hours(1), [] {}));
    break;
  case 2:
    co_await otter::sleep(std::chrono::hours(1));
    break;
  case 3:
    co_await nested_wait(count);
    break;
  }
}

} // namespace

TEST_CASE("kill - a process killed while suspended runs its destructors and its monitors fire",
          "[kill][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    for (int how = 0; how < 4; ++how) {
      auto count = std::make_shared<std::atomic<int>>(0);
      [[maybe_unused]] auto [victim, m] = otter::spawn_monitor(where, suspended, otter::self(), how, count);
      co_await otter::receive<ready>();
      otter::exit(victim, otter::exit_reason::custom("stop"));
      auto d = co_await down_of(m);
      REQUIRE(d);
      CHECK(d->reason == otter::exit_reason::custom("stop"));
      CHECK(*count == (how == 3 ? 2 : 1)); // the nested task's guard too
    }
  });
}

TEST_CASE("kill - a process killed while waiting with a timeout leaves no timer behind", "[kill]") {
  run(deterministic(), []() -> otter::process {
    auto count = std::make_shared<std::atomic<int>>(0);
    [[maybe_unused]] auto [victim, m] = otter::spawn_monitor(suspended, otter::self(), 1, count);
    co_await otter::receive<ready>();
    otter::exit(victim, otter::exit_reason::kill());
    auto d = co_await down_of(m);
    REQUIRE(d);
    CHECK(d->reason == otter::exit_reason::killed());
    // Virtual time runs out the hour: a timer left behind would now fire into freed memory.
    co_await otter::sleep(std::chrono::hours(2));
  });
}

TEST_CASE("kill - a killed process's links fire with its reason", "[kill][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::trap_exit(true);
    auto count = std::make_shared<std::atomic<int>>(0);
    otter::pid victim = otter::spawn_link(where, suspended, otter::self(), 0, count);
    co_await otter::receive<ready>();
    otter::exit(victim, otter::exit_reason::kill());
    auto e = co_await exit_from(victim);
    REQUIRE(e);
    CHECK(e->reason == otter::exit_reason::killed());
    CHECK(*count == 1);
  });
}

TEST_CASE("kill - unread messages of a killed process are freed", "[kill][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    auto count = std::make_shared<std::atomic<int>>(0);
    [[maybe_unused]] auto [victim, m] = otter::spawn_monitor(where, suspended, otter::self(), 0, count);
    co_await otter::receive<ready>();
    for (int i = 0; i < 100; ++i) otter::send(victim, std::make_unique<std::string>("unread"));
    otter::exit(victim, otter::exit_reason::shutdown());
    auto d = co_await down_of(m);
    CHECK(d); // ASan checks that the strings were freed
  });
}
