#include <otter/link.hpp>

#include <atomic>
#include <string>

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

struct go {};

// Waits for `go`, then exits with `reason`.
otter::process exit_when_told(otter::exit_reason reason) {
  co_await otter::receive<go>();
  otter::exit(reason);
}

// Links to `other`, tells `parent` it did, then waits forever.
otter::process link_and_wait(otter::pid other, otter::pid parent) {
  otter::link(other);
  otter::send(parent, go{});
  co_await otter::receive<double>(); // never sent
}

otter::process wait_forever() { co_await otter::receive<double>(); }

} // namespace

TEST_CASE("link - an exit with a non-normal reason kills the linked process with that reason",
          "[link][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::pid dying = otter::spawn(where, exit_when_told, otter::exit_reason::custom("boom"));
    otter::pid partner = otter::spawn(where, link_and_wait, dying, otter::self());
    co_await otter::receive<go>(); // the link is in place
    otter::ref m = otter::monitor(partner);
    otter::send(dying, go{});
    auto down = co_await down_of(m);
    REQUIRE(down);
    CHECK(down->reason == otter::exit_reason::custom("boom"));
  });
}

TEST_CASE("link - a normal exit does not kill the linked process", "[link][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::pid leaving = otter::spawn(where, exit_when_told, otter::exit_reason::normal());
    otter::pid partner = otter::spawn(where, link_and_wait, leaving, otter::self());
    co_await otter::receive<go>();
    otter::ref gone = otter::monitor(leaving);
    otter::ref watched = otter::monitor(partner);
    otter::send(leaving, go{});
    auto d = co_await down_of(gone);
    REQUIRE(d);
    CHECK(d->reason.is_normal());
    // Still alive: a stray DOWN for it would be queued by now on one core, and
    // across cores the link signal is ahead of anything we send next.
    otter::send(partner, 1.0);
    auto partner_down = co_await down_of(watched);
    REQUIRE(partner_down);
    CHECK(partner_down->reason.is_normal()); // it exited because of our message, not the link
  });
}

TEST_CASE("link - a process that traps exits gets an exit_message instead of dying",
          "[link][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::trap_exit(true);
    otter::pid child = otter::spawn(where, exit_when_told, otter::exit_reason::custom("crashed"));
    otter::link(child);
    otter::send(child, go{});
    auto e = co_await exit_from(child);
    REQUIRE(e);
    CHECK(e->reason == otter::exit_reason::custom("crashed"));
  });
}

TEST_CASE("link - a trapping process also gets an exit_message for a normal exit", "[link][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::trap_exit(true);
    otter::pid child = otter::spawn_link([](otter::spawn_options) -> otter::process { co_return; }, where);
    auto e = co_await exit_from(child);
    REQUIRE(e);
    CHECK(e->reason.is_normal());
  });
}

TEST_CASE("link - links are bidirectional: the linker's death kills the linked", "[link][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::pid target = otter::spawn(where, wait_forever);
    // A middle process links to the target and then crashes.
    otter::pid middle = otter::spawn(where, [](otter::pid t) -> otter::process {
      otter::link(t);
      co_await otter::receive<go>();
      throw std::runtime_error("middle failed");
    }, target);
    otter::ref m = otter::monitor(target);
    otter::send(middle, go{});
    auto down = co_await down_of(m);
    REQUIRE(down);
    CHECK(down->reason.get_kind() == otter::exit_reason::kind::error);
    CHECK(down->reason.detail() == "middle failed");
  });
}

TEST_CASE("link - kill cannot be trapped and reaches linked processes as killed", "[link][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::trap_exit(true);
    otter::pid victim = otter::spawn(where, []() -> otter::process {
      otter::trap_exit(true); // no help against kill
      co_await otter::receive<double>();
    });
    otter::link(victim);
    otter::exit(victim, otter::exit_reason::kill());
    auto e = co_await exit_from(victim);
    REQUIRE(e);
    CHECK(e->reason == otter::exit_reason::killed());
  });
}

TEST_CASE("link - linking to a process that does not exist sends the trapping caller noproc",
          "[link][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::pid gone = otter::spawn(where, []() -> otter::process { co_return; });
    co_await reason_of(gone); // it has exited
    otter::trap_exit(true);
    otter::link(gone);
    auto e = co_await exit_from(gone);
    REQUIRE(e);
    CHECK(e->reason == otter::exit_reason::noproc());
  });
}

TEST_CASE("link - linking to a process that does not exist kills a caller that does not trap, with noproc",
          "[link][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::pid gone = otter::spawn(where, []() -> otter::process { co_return; });
    co_await reason_of(gone);
    [[maybe_unused]] auto [spawned, m] = otter::spawn_monitor([](otter::pid g) -> otter::process {
      otter::link(g);
      co_await otter::receive<double>(); // the noproc signal ends it here, or before
    }, gone);
    auto d = co_await down_of(m);
    REQUIRE(d);
    CHECK(d->reason == otter::exit_reason::noproc());
  });
}

TEST_CASE("unlink - removes the link both ways", "[link][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::pid child = otter::spawn(where, exit_when_told, otter::exit_reason::custom("bye"));
    otter::link(child);
    otter::unlink(child);
    otter::ref m = otter::monitor(child);
    otter::send(child, go{});
    auto d = co_await down_of(m);
    REQUIRE(d);
    CHECK(d->reason == otter::exit_reason::custom("bye"));
    // We are still alive: this code runs.
    CHECK(otter::self());
  });
}

TEST_CASE("spawn_link - a child that dies at once still kills its parent", "[link][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    [[maybe_unused]] auto [spawned, m] = otter::spawn_monitor([](otter::spawn_options w) -> otter::process {
      otter::spawn_link(w, []() -> otter::process {
        otter::exit(otter::exit_reason::custom("instant"));
        co_return;
      });
      co_await otter::receive<double>();
    }, where);
    auto d = co_await down_of(m);
    REQUIRE(d);
    CHECK(d->reason == otter::exit_reason::custom("instant"));
  });
}

TEST_CASE("exit - kills a process that does not trap exits, with the given reason", "[link][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::pid target = otter::spawn(where, wait_forever);
    otter::ref m = otter::monitor(target);
    otter::exit(target, otter::exit_reason::shutdown("maintenance"));
    auto d = co_await down_of(m);
    REQUIRE(d);
    CHECK(d->reason == otter::exit_reason::shutdown("maintenance"));
  });
}

TEST_CASE("exit - normal is ignored unless the target traps exits", "[link][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::pid plain = otter::spawn(where, [](otter::pid parent) -> otter::process {
      co_await otter::receive<go>();
      otter::send(parent, std::string("still here"));
    }, otter::self());
    otter::exit(plain, otter::exit_reason::normal());
    otter::send(plain, go{}); // behind the exit signal
    auto alive = co_await otter::receive<std::string>(patience);
    CHECK(alive.has_value());

    otter::pid trapper = otter::spawn(where, [](otter::pid parent) -> otter::process {
      otter::trap_exit(true);
      otter::send(parent, go{});
      auto e = co_await otter::receive<otter::exit_message>();
      otter::send(parent, e.reason);
    }, otter::self());
    co_await otter::receive<go>(); // it traps exits now
    otter::exit(trapper, otter::exit_reason::normal());
    auto r = co_await otter::receive<otter::exit_reason>(patience);
    REQUIRE(r);
    CHECK(r->is_normal());
  });
}

TEST_CASE("exit - an exit signal and the messages before it arrive in send order", "[link][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    otter::pid trapper = otter::spawn(where, [](otter::pid parent) -> otter::process {
      otter::trap_exit(true);
      otter::send(parent, go{});
      // Take whatever comes first: the messages must all precede the EXIT.
      int messages = 0;
      for (;;) {
        const bool was_exit = co_await otter::receive([&](int) { ++messages; return false; },
                                                      [](otter::exit_message) { return true; });
        if (was_exit) break;
      }
      otter::send(parent, messages);
    }, otter::self());
    co_await otter::receive<go>();
    for (int i = 0; i < 1000; ++i) otter::send(trapper, i);
    otter::exit(trapper, otter::exit_reason::custom("after the messages"));
    auto count = co_await otter::receive<int>(patience);
    REQUIRE(count);
    CHECK(*count == 1000);
  });
}

TEST_CASE("exit - otter::exit(reason) ends the calling process with that reason", "[link]") {
  run(deterministic(), []() -> otter::process {
    [[maybe_unused]] auto [spawned, m] = otter::spawn_monitor([]() -> otter::process {
      otter::exit(otter::exit_reason::custom("done"));
      co_return;
    });
    auto d = co_await down_of(m);
    REQUIRE(d);
    CHECK(d->reason == otter::exit_reason::custom("done"));
  });
}

TEST_CASE("exit - a process may send itself exit(kill): it dies killed", "[link]") {
  run(deterministic(), []() -> otter::process {
    [[maybe_unused]] auto [spawned, m] = otter::spawn_monitor([]() -> otter::process {
      otter::trap_exit(true);
      otter::exit(otter::self(), otter::exit_reason::kill());
      co_return;
    });
    auto d = co_await down_of(m);
    REQUIRE(d);
    CHECK(d->reason == otter::exit_reason::killed());
  });
}

TEST_CASE("trap_exit - returns the previous setting", "[link]") {
  run(deterministic(), []() -> otter::process {
    CHECK_FALSE(otter::trap_exit(true));
    CHECK(otter::trap_exit(false));
    CHECK_FALSE(otter::trap_exit(false));
    co_return;
  });
}
