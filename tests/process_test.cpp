#include <otter/process.hpp>

#include <coroutine>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include <otter/logger.hpp>
#include <otter/node.hpp>
#include <otter/receive.hpp>
#include <otter/registry.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>

#include "support/otter_test.hpp"

using namespace otter_test;

namespace {

struct custom_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

} // namespace

TEST_CASE("process - exits normal when its body returns", "[process]") {
  otter::node node(deterministic());
  const int rc1 = node.run([]() -> otter::process { co_return; });
  CHECK(rc1 == 0);
  CHECK(node.last_exit_reason() == otter::exit_reason::normal());
}

TEST_CASE("process - an escaping exception becomes an error reason with its type and message",
          "[process]") {
  otter::node_options o = deterministic();
  o.log.reports = false;
  otter::node node(o);
  node.run([]() -> otter::process {
    throw custom_error("disk on fire");
    co_return;
  });
  const otter::exit_reason& r = node.last_exit_reason();
  CHECK(r.get_kind() == otter::exit_reason::kind::error);
  CHECK(r.error_type().find("custom_error") != std::string_view::npos);
  CHECK(r.detail() == "disk on fire");
  CHECK(r.to_string().find("disk on fire") != std::string::npos);
}

TEST_CASE("process - a crash is reported with the pid, the registered name and the reason",
          "[process]") {
  std::vector<otter::crash_report> reports; // filled on the logger thread
  otter::pid crashed;
  {
    otter::node_options o = deterministic();
    o.log.sink = [&](const otter::log_record& r) {
      if (auto* c = std::get_if<otter::crash_report>(&r)) reports.push_back(*c);
    };
    otter::node node(o);
    node.run([](otter::pid* out) -> otter::process {
      otter::pid child = otter::spawn([]() -> otter::process {
        otter::register_name("worker", otter::self());
        throw std::logic_error("bad state");
        co_return;
      });
      *out = child;
      co_await otter::yield();
    }, &crashed);
  } // the node's destructor has written every report
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].process == crashed);
  CHECK(reports[0].registered_name == "worker");
  CHECK(reports[0].reason == otter::exit_reason::error("std::logic_error", "bad state"));
  CHECK(!reports[0].supervisor);
}

TEST_CASE("process - a normal exit is not reported as a crash", "[process]") {
  int reports = 0;
  {
    otter::node_options o = deterministic();
    o.log.sink = [&](const otter::log_record&) { ++reports; };
    otter::node node(o);
    node.run([]() -> otter::process {
      otter::spawn([]() -> otter::process { co_return; });
      co_await otter::yield();
    });
  }
  CHECK(reports == 0);
}

TEST_CASE("yield - lets the processes that were ready first run before resuming", "[process]") {
  run(deterministic(), []() -> otter::process {
    std::vector<std::string> log;
    auto worker = [](std::vector<std::string>* out, std::string name) -> otter::process {
      out->push_back(name + "1");
      co_await otter::yield();
      out->push_back(name + "2");
    };
    otter::spawn(worker, &log, std::string("a"));
    otter::spawn(worker, &log, std::string("b"));
    co_await otter::yield();
    co_await otter::yield();
    CHECK(log == std::vector<std::string>{"a1", "b1", "a2", "b2"});
  });
}

TEST_CASE("receive budget - a process that keeps finding messages lets another process run",
          "[process][fairness]") {
  run(deterministic(), []() -> otter::process {
    struct shared {
      int received = 0;
      int seen_by_other = -1;
    } s;
    otter::pid busy = otter::spawn([](shared* st) -> otter::process {
      for (int i = 0; i < 10000; ++i) {
        co_await otter::receive<int>();
        ++st->received;
      }
    }, &s);
    for (int i = 0; i < 10000; ++i) otter::send(busy, i); // all queued before it runs
    otter::spawn([](shared* st) -> otter::process {
      st->seen_by_other = st->received;
      co_return;
    }, &s);
    while (s.received < 10000) co_await otter::yield();
    // The second process ran while the first still had thousands of messages queued.
    CHECK(s.seen_by_other >= 0);
    CHECK(s.seen_by_other < 10000);
    CHECK(s.seen_by_other <= static_cast<int>(otter::detail::receive_budget));
  });
}

TEST_CASE("process - suspending on a foreign awaitable ends the process with an error", "[process]") {
  otter::node_options o = deterministic();
  o.log.reports = false;
  otter::node node(o);
  const int rc2 = node.run([]() -> otter::process { co_await std::suspend_always{}; });
  CHECK(rc2 == 1);
  CHECK(node.last_exit_reason().error_type() == "otter::foreign_await");
}
