#include <otter/monitor.hpp>

#include <string>

#include <otter/link.hpp>
#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/timer.hpp>

#include "support/await.hpp"
#include "support/otter_test.hpp"

using namespace otter_test;

namespace {

struct go {};

otter::process exit_when_told(otter::exit_reason reason) {
  co_await otter::receive<go>();
  otter::exit(reason);
}

} // namespace

TEST_CASE("monitor - a DOWN message carries the monitored process's exit reason", "[monitor][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::pid p = otter::spawn(where, exit_when_told, otter::exit_reason::custom("why"));
    otter::ref m = otter::monitor(p);
    otter::send(p, go{});
    auto d = co_await down_of(m);
    REQUIRE(d);
    CHECK(d->monitor == m);
    CHECK(d->process == p);
    CHECK(d->reason == otter::exit_reason::custom("why"));
  });
}

TEST_CASE("monitor - a normal exit gives a DOWN with reason normal", "[monitor][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::pid p = otter::spawn(where, exit_when_told, otter::exit_reason::normal());
    otter::ref m = otter::monitor(p);
    otter::send(p, go{});
    auto d = co_await down_of(m);
    REQUIRE(d);
    CHECK(d->reason.is_normal());
  });
}

TEST_CASE("monitor - monitoring a process that does not exist gives DOWN noproc", "[monitor][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::pid gone = otter::spawn(where, []() -> otter::process { co_return; });
    co_await reason_of(gone);
    otter::ref m = otter::monitor(gone);
    auto d = co_await down_of(m);
    REQUIRE(d);
    CHECK(d->reason == otter::exit_reason::noproc());
    CHECK(d->process == gone);
  });
}

TEST_CASE("monitor - on one core, DOWN noproc for a dead process is queued at once", "[monitor]") {
  run(deterministic(), []() -> otter::process {
    otter::ref m = otter::monitor(otter::pid::make(0, 12345, 7));
    auto d = co_await otter::receive<otter::down_message>(0ms);
    REQUIRE(d);
    CHECK(d->monitor == m);
  });
}

TEST_CASE("monitor - monitors stack: each gets its own DOWN", "[monitor][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::pid p = otter::spawn(where, exit_when_told, otter::exit_reason::custom("x"));
    otter::ref a = otter::monitor(p);
    otter::ref b = otter::monitor(p);
    CHECK(a != b);
    otter::send(p, go{});
    auto da = co_await down_of(a);
    auto db = co_await down_of(b);
    CHECK(da);
    CHECK(db);
  });
}

TEST_CASE("monitor - is one-way: the monitor's death does not touch the monitored", "[monitor][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::pid target = otter::spawn(where, exit_when_told, otter::exit_reason::custom("later"));
    otter::pid watcher = otter::spawn([](otter::pid t) -> otter::process {
      otter::monitor(t);
      throw std::runtime_error("watcher dies");
      co_return;
    }, target);
    co_await reason_of(watcher);
    otter::ref m = otter::monitor(target);
    otter::send(target, go{});
    auto d = co_await down_of(m);
    REQUIRE(d);
    CHECK(d->reason == otter::exit_reason::custom("later")); // it lived until told
  });
}

TEST_CASE("demonitor - no DOWN arrives after it; it reports the monitor was active", "[monitor][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::pid p = otter::spawn(where, exit_when_told, otter::exit_reason::custom("x"));
    otter::ref m = otter::monitor(p);
    CHECK(otter::demonitor(m));
    CHECK_FALSE(otter::demonitor(m));
    otter::ref check = otter::monitor(p);
    otter::send(p, go{});
    co_await down_of(check);
    // The DOWN for `check` came; none for `m` was queued before it.
    auto stray = co_await otter::receive(
        otter::when([m](const otter::down_message& d) { return d.monitor == m; },
                    [](otter::down_message) { return true; }),
        otter::after(0ms, [] { return false; }));
    CHECK_FALSE(stray);
  });
}

TEST_CASE("demonitor - with flush, removes a DOWN that already arrived", "[monitor][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::pid p = otter::spawn(where, exit_when_told, otter::exit_reason::custom("x"));
    otter::ref m = otter::monitor(p);
    otter::ref check = otter::monitor(p);
    otter::send(p, go{});
    co_await down_of(check); // so the DOWN for `m` is queued too (it was sent first)
    CHECK_FALSE(otter::demonitor(m, true));
    auto stray = co_await otter::receive<otter::down_message>(0ms);
    CHECK_FALSE(stray);
  });
}

TEST_CASE("spawn_monitor - a child that dies at once is still seen going down", "[monitor][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    [[maybe_unused]] auto [child, m] = otter::spawn_monitor(where, []() -> otter::process {
      otter::exit(otter::exit_reason::custom("gone"));
      co_return;
    });
    auto d = co_await down_of(m);
    REQUIRE(d);
    CHECK(d->process == child);
    CHECK(d->reason == otter::exit_reason::custom("gone"));
  });
}

TEST_CASE("monitor - messages a process sent before exiting arrive before its DOWN", "[monitor][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    [[maybe_unused]] auto [child, m] = otter::spawn_monitor(where, [](otter::pid parent) -> otter::process {
      for (int i = 0; i < 500; ++i) otter::send(parent, i);
      co_return;
    }, otter::self());
    int received = 0;
    for (;;) {
      const bool down = co_await otter::receive([&](int) { ++received; return false; },
                                                [](otter::down_message) { return true; });
      if (down) break;
    }
    CHECK(received == 500);
  });
}
