#include <otter/pid.hpp>

#include <set>
#include <sstream>
#include <unordered_set>

#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>

#include "support/otter_test.hpp"

using namespace otter_test;

TEST_CASE("pid - prints like Erlang's <S.N.G>", "[pid]") {
  CHECK(otter::to_string(otter::pid::make(1, 42, 3)) == "<1.42.3>");
  CHECK(otter::to_string(otter::pid{}) == "<none>");
  std::ostringstream os;
  os << otter::pid::make(0, 7, 1);
  CHECK(os.str() == "<0.7.1>");
}

TEST_CASE("pid - round-trips through its bits and compares by value", "[pid]") {
  const otter::pid p = otter::pid::make(3, 123456, 99);
  CHECK(otter::pid::from_bits(p.bits()) == p);
  CHECK(p.scheduler() == 3);
  CHECK(p.slot() == 123456);
  CHECK(p.generation() == 99);
  CHECK(otter::pid::make(3, 123456, 100) != p);
  CHECK_FALSE(otter::pid{});
  CHECK(std::hash<otter::pid>{}(p) == std::hash<otter::pid>{}(otter::pid::from_bits(p.bits())));
}

TEST_CASE("pid - a held pid is never given to a later process", "[pid]") {
  run(deterministic(), []() -> otter::process {
    otter::pid held = otter::spawn([]() -> otter::process { co_return; });
    co_await otter::yield(); // let it exit, freeing its slot
    std::unordered_set<otter::pid> seen;
    for (int i = 0; i < 5000; ++i) {
      otter::pid p = otter::spawn([](otter::pid parent) -> otter::process {
        otter::send(parent, otter::self());
        co_return;
      }, otter::self());
      CHECK(p != held);
      CHECK(seen.insert(p).second);
      auto got25 = co_await otter::receive<otter::pid>();
      CHECK(got25 == p);
    }
    // The old pid reaches none of them.
    otter::send(held, 1);
    auto got26 = co_await otter::receive<int>(10ms);
    CHECK_FALSE(got26.has_value());
  });
}

TEST_CASE("pid - self() names the running process and is null outside processes", "[pid]") {
  CHECK_FALSE(otter::self());
  run(deterministic(), []() -> otter::process {
    otter::pid child = otter::spawn([](otter::pid parent) -> otter::process {
      otter::send(parent, otter::self());
      co_return;
    }, otter::self());
    auto got27 = co_await otter::receive<otter::pid>();
    CHECK(got27 == child);
  });
}
