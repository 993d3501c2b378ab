#include "../lib/timer_wheel.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <vector>

using otter::detail::timer_node;
using otter::detail::timer_wheel;

namespace {

struct test_timer : timer_node {
  int id = 0;
  std::vector<std::pair<int, std::uint64_t>>* log = nullptr;
  timer_wheel* wheel = nullptr;
};

void record(timer_node* t) noexcept {
  auto* tt = static_cast<test_timer*>(t);
  tt->log->emplace_back(tt->id, tt->wheel->now());
}

} // namespace

TEST_CASE("timer_wheel - fires every timer at its deadline, in deadline order, across all levels",
          "[timer_wheel]") {
  timer_wheel w;
  w.reset(1000);
  std::vector<std::pair<int, std::uint64_t>> log;
  std::mt19937_64 rng(42);
  std::vector<test_timer> timers(2000);
  std::multimap<std::uint64_t, int> expected;
  for (int i = 0; i < 2000; ++i) {
    auto& t = timers[static_cast<std::size_t>(i)];
    t.id = i;
    t.log = &log;
    t.wheel = &w;
    t.fire = &record;
    // Spread over every level, and beyond the wheel's 64^4-tick range.
    const std::uint64_t span = std::uint64_t{1} << (rng() % 27);
    t.deadline = 1001 + rng() % span;
    expected.emplace(t.deadline, i);
    w.insert(&t);
  }
  CHECK(w.size() == 2000);
  // Advance in uneven steps, as a scheduler waking at odd times would.
  std::uint64_t now = 1000;
  while (!w.empty()) {
    auto next = w.next_expiry();
    REQUIRE(next.has_value());
    REQUIRE(*next > w.now());
    REQUIRE(*next <= expected.begin()->first); // a lower bound on the earliest deadline
    now += 1 + rng() % 5000;
    w.advance(now);
    while (!expected.empty() && expected.begin()->first <= now) expected.erase(expected.begin());
  }
  REQUIRE(log.size() == 2000);
  for (std::size_t i = 0; i < log.size(); ++i) {
    const auto& t = timers[static_cast<std::size_t>(log[i].first)];
    CHECK(log[i].second >= t.deadline);      // never early
    if (i > 0) CHECK(timers[static_cast<std::size_t>(log[i - 1].first)].deadline <= t.deadline);
  }
}

TEST_CASE("timer_wheel - advancing tick by tick fires each timer exactly at its deadline", "[timer_wheel]") {
  timer_wheel w;
  std::vector<std::pair<int, std::uint64_t>> log;
  std::vector<test_timer> timers(300);
  for (int i = 0; i < 300; ++i) {
    auto& t = timers[static_cast<std::size_t>(i)];
    t.id = i;
    t.log = &log;
    t.wheel = &w;
    t.fire = &record;
    t.deadline = static_cast<std::uint64_t>(i) * 37 + 1;
    w.insert(&t);
  }
  for (std::uint64_t tick = 1; tick <= 300 * 37 + 1; ++tick) w.advance(tick);
  REQUIRE(log.size() == 300);
  for (auto& [id, at] : log) CHECK(at == timers[static_cast<std::size_t>(id)].deadline);
}

TEST_CASE("timer_wheel - an erased timer never fires and frees its slot", "[timer_wheel]") {
  timer_wheel w;
  std::vector<std::pair<int, std::uint64_t>> log;
  test_timer a, b;
  for (auto* t : {&a, &b}) {
    t->log = &log;
    t->wheel = &w;
    t->fire = &record;
  }
  a.id = 1;
  a.deadline = 10;
  b.id = 2;
  b.deadline = 5000;
  w.insert(&a);
  w.insert(&b);
  w.erase(&a);
  w.erase(&a); // twice is harmless
  CHECK_FALSE(a.armed());
  CHECK(w.size() == 1);
  w.advance(20000);
  REQUIRE(log.size() == 1);
  CHECK(log[0].first == 2);
  CHECK_FALSE(w.next_expiry().has_value());
}

TEST_CASE("timer_wheel - a timer may cancel another due in the same tick", "[timer_wheel]") {
  timer_wheel w;
  struct canceller : timer_node {
    timer_wheel* wheel;
    timer_node* victim;
    int fired = 0;
  };
  canceller a, b;
  auto fire = [](timer_node* t) noexcept {
    auto* c = static_cast<canceller*>(t);
    ++c->fired;
    c->wheel->erase(c->victim);
  };
  a.wheel = b.wheel = &w;
  a.victim = &b;
  b.victim = &a;
  a.fire = b.fire = fire;
  a.deadline = b.deadline = 7;
  w.insert(&a);
  w.insert(&b);
  w.advance(7);
  CHECK(a.fired + b.fired == 1);
  CHECK(w.empty());
}

TEST_CASE("timer_wheel - a deadline already passed fires at the next advance", "[timer_wheel]") {
  timer_wheel w;
  w.reset(100);
  std::vector<std::pair<int, std::uint64_t>> log;
  test_timer t;
  t.log = &log;
  t.wheel = &w;
  t.fire = &record;
  t.deadline = 50;
  w.insert(&t);
  w.advance(101);
  CHECK(log.size() == 1);
}
