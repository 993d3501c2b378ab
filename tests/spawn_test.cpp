#include <otter/spawn.hpp>

#include <memory>
#include <set>
#include <string>

#include <otter/node.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>

#include "support/otter_test.hpp"

using namespace otter_test;

namespace {

otter::process report_scheduler(otter::pid parent) {
  otter::send(parent, otter::this_scheduler());
  co_return;
}

otter::process echo_string(otter::pid parent, const std::string& text) {
  co_await otter::yield(); // after spawn returned: `text` must still be alive
  otter::send(parent, text);
}

} // namespace

TEST_CASE("spawn - runs the process on the caller's scheduler by default", "[spawn][cross-core]") {
  run(two_cores(), []() -> otter::process {
    otter::spawn(otter::on_scheduler(1), [](otter::pid parent) -> otter::process {
      otter::spawn(report_scheduler, parent); // spawned from scheduler 1
      co_return;
    }, otter::self());
    otter::spawn(report_scheduler, otter::self());
    auto a = co_await otter::receive<int>();
    auto b = co_await otter::receive<int>();
    CHECK(std::multiset<int>{a, b} == std::multiset<int>{0, 1});
  });
}

TEST_CASE("spawn - on_scheduler places the process on the chosen scheduler", "[spawn][cross-core]") {
  run(two_cores(), []() -> otter::process {
    otter::pid p = otter::spawn(otter::on_scheduler(1), report_scheduler, otter::self());
    CHECK(p.scheduler() == 1);
    auto got32 = co_await otter::receive<int>();
    CHECK(got32 == 1);
  });
}

TEST_CASE("spawn - spread places successive processes on every scheduler in turn", "[spawn][cross-core]") {
  run(two_cores(), []() -> otter::process {
    std::multiset<int> where;
    for (int i = 0; i < 10; ++i) otter::spawn(otter::spread(), report_scheduler, otter::self());
    for (int i = 0; i < 10; ++i) where.insert(co_await otter::receive<int>());
    CHECK(where.count(0) == 5);
    CHECK(where.count(1) == 5);
  });
}

TEST_CASE("spawn - a capturing lambda's state lives as long as the process", "[spawn]") {
  run(deterministic(), []() -> otter::process {
    auto text = std::make_shared<std::string>("captured");
    otter::pid me = otter::self();
    otter::spawn([text, me]() -> otter::process {
      co_await otter::yield();
      otter::send(me, *text + "!");
    });
    text.reset(); // the process holds the only reference now
    auto got33 = co_await otter::receive<std::string>();
    CHECK(got33 == "captured!");
  });
}

TEST_CASE("spawn - arguments bound to reference parameters are kept alive", "[spawn]") {
  run(deterministic(), []() -> otter::process {
    {
      std::string temporary = "kept";
      otter::spawn(echo_string, otter::self(), temporary);
    }
    auto got34 = co_await otter::receive<std::string>();
    CHECK(got34 == "kept");
  });
}

TEST_CASE("spawn - move-only arguments are moved into the process", "[spawn]") {
  run(deterministic(), []() -> otter::process {
    auto owned = std::make_unique<int>(5);
    otter::spawn([](otter::pid parent, std::unique_ptr<int> v) -> otter::process {
      otter::send(parent, *v);
      co_return;
    }, otter::self(), std::move(owned));
    auto got35 = co_await otter::receive<int>();
    CHECK(got35 == 5);
  });
}

TEST_CASE("spawn - from a thread that is not the node's throws logic_error", "[spawn]") {
  CHECK_THROWS_AS(otter::spawn([]() -> otter::process { co_return; }), std::logic_error);
}

TEST_CASE("spawn - the child runs after the parent gives up the core", "[spawn]") {
  run(deterministic(), []() -> otter::process {
    bool child_ran = false;
    otter::spawn([](bool* ran) -> otter::process {
      *ran = true;
      co_return;
    }, &child_ran);
    CHECK_FALSE(child_ran);
    co_await otter::yield();
    CHECK(child_ran);
  });
}
