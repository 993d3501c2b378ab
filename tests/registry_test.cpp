#include <otter/registry.hpp>

#include <algorithm>
#include <string>

#include <otter/errors.hpp>
#include <otter/monitor.hpp>
#include <otter/node.hpp>
#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/timer.hpp>

#include "support/await.hpp"
#include "support/otter_test.hpp"

using namespace otter_test;

TEST_CASE("register_name - whereis finds the process", "[registry]") {
  run(deterministic(), []() -> otter::process {
    otter::register_name("main", otter::self());
    CHECK(otter::whereis("main") == otter::self());
    CHECK_FALSE(otter::whereis("other"));
    auto all = otter::registered();
    CHECK(std::find(all.begin(), all.end(), "main") != all.end());
    co_return;
  });
}

TEST_CASE("register_name - a name is visible from every core", "[registry][cross-core]") {
  run(two_cores(), []() -> otter::process {
    otter::register_name("home", otter::self());
    otter::spawn(otter::on_scheduler(1), []() -> otter::process {
      otter::send("home", otter::whereis("home"));
      co_return;
    });
    auto seen = co_await otter::receive<otter::pid>(patience);
    REQUIRE(seen.has_value());
    CHECK(*seen == otter::self());
  });
}

TEST_CASE("register_name - a name dies with its process", "[registry]") {
  run(deterministic(), []() -> otter::process {
    otter::spawn([](otter::pid parent) -> otter::process {
      otter::register_name("short-lived", otter::self());
      otter::send(parent, 1);
      co_return;
    }, otter::self());
    co_await otter::receive<int>();
    co_await otter::yield();
    CHECK_FALSE(otter::whereis("short-lived"));
    // ...and can be taken again.
    otter::register_name("short-lived", otter::self());
    CHECK(otter::whereis("short-lived") == otter::self());
  });
}

TEST_CASE("register_name - a name registered from another core dies with its process",
          "[registry][cross-core]") {
  run(two_cores(), []() -> otter::process {
    otter::pid child = otter::spawn(otter::on_scheduler(1), []() -> otter::process {
      co_await otter::receive<int>();
    });
    const otter::ref watch = otter::monitor(child);
    otter::register_name("remote", child);
    CHECK(otter::whereis("remote") == child);
    otter::send(child, 1); // it exits
    // A process's name is gone before its DOWN is sent. Nothing else orders
    // the child's exit before what another process does: a probe on the
    // child's core, asked after it, sometimes answered while the name was
    // still there.
    auto down = co_await down_of(watch);
    REQUIRE(down.has_value());
    CHECK_FALSE(otter::whereis("remote"));
  });
}

TEST_CASE("register_name - a taken name is refused with badarg", "[registry]") {
  run(deterministic(), []() -> otter::process {
    otter::register_name("taken", otter::self());
    otter::pid other = otter::spawn([]() -> otter::process { co_await otter::receive<int>(); });
    CHECK_THROWS_AS(otter::register_name("taken", other), otter::badarg);
    otter::send(other, 0);
    co_return;
  });
}

TEST_CASE("register_name - a process has at most one name", "[registry]") {
  run(deterministic(), []() -> otter::process {
    otter::register_name("one", otter::self());
    CHECK_THROWS_AS(otter::register_name("two", otter::self()), otter::badarg);
    co_return;
  });
}

TEST_CASE("register_name - a dead process or an empty name is refused with badarg", "[registry]") {
  run(deterministic(), []() -> otter::process {
    otter::pid gone = otter::spawn([]() -> otter::process { co_return; });
    co_await otter::yield();
    CHECK_THROWS_AS(otter::register_name("ghost", gone), otter::badarg);
    CHECK_THROWS_AS(otter::register_name("", otter::self()), otter::badarg);
    CHECK_FALSE(otter::whereis("ghost"));
  });
}

TEST_CASE("unregister_name - removes the name; an unknown name is badarg", "[registry]") {
  run(deterministic(), []() -> otter::process {
    otter::register_name("temp", otter::self());
    otter::unregister_name("temp");
    CHECK_FALSE(otter::whereis("temp"));
    CHECK_THROWS_AS(otter::unregister_name("temp"), otter::badarg);
    co_return;
  });
}

TEST_CASE("node.whereis - looks names up from outside the node", "[registry]") {
  otter::node node(two_cores());
  otter::pid seen;
  node.run([](otter::node* n, otter::pid* out) -> otter::process {
    otter::register_name("root", otter::self());
    *out = n->whereis("root");
    co_return;
  }, &node, &seen);
  CHECK(seen);
  CHECK_FALSE(node.whereis("root")); // died with the process
}
