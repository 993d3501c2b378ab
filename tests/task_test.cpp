#include <otter/task.hpp>

#include <atomic>
#include <stdexcept>
#include <string>

#include <otter/node.hpp>
#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/timer.hpp>

#include "support/otter_test.hpp"

using namespace otter_test;

namespace {

otter::task<int> add(int a, int b) { co_return a + b; }

otter::task<int> add_nested(int a, int b, int c) {
  int ab = co_await add(a, b);
  co_return co_await add(ab, c);
}

otter::task<> fail() {
  co_await otter::yield();
  throw std::runtime_error("task failed");
}

otter::task<std::string> next_string() { co_return co_await otter::receive<std::string>(); }

std::atomic<int> inner_destroyed{0};
std::atomic<int> outer_destroyed{0};

struct count_on_destroy {
  std::atomic<int>* counter;
  ~count_on_destroy() { ++*counter; }
};

otter::task<> wait_forever_inside() {
  count_on_destroy g{&inner_destroyed};
  co_await otter::receive<double>(); // never sent
}

} // namespace

TEST_CASE("task - returns its value to the awaiting process", "[task]") {
  run(deterministic(), []() -> otter::process {
    int sum = co_await add(2, 3);
    CHECK(sum == 5);
  });
}

TEST_CASE("task - tasks nest, each resuming the one that awaited it", "[task]") {
  run(deterministic(), []() -> otter::process {
    int sum = co_await add_nested(1, 2, 3);
    CHECK(sum == 6);
  });
}

TEST_CASE("task - an exception propagates to the awaiter", "[task]") {
  run(deterministic(), []() -> otter::process {
    bool caught = false;
    try {
      co_await fail();
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "task failed";
    }
    CHECK(caught);
  });
}

TEST_CASE("task - receive inside a task suspends the whole process until a message comes", "[task]") {
  run(deterministic(), []() -> otter::process {
    otter::pid me = otter::self();
    otter::spawn([](otter::pid to) -> otter::process {
      co_await otter::sleep(5ms);
      otter::send(to, std::string("late"));
    }, me);
    auto got28 = co_await next_string();
    CHECK(got28 == "late");
  });
}

TEST_CASE("task - a process killed inside a nested task destroys every frame of the chain",
          "[task]") {
  inner_destroyed = 0;
  outer_destroyed = 0;
  otter::node node(deterministic());
  const int rc6 = node.run([]() -> otter::process {
    otter::spawn([]() -> otter::process {
      count_on_destroy g{&outer_destroyed};
      co_await wait_forever_inside();
    });
    co_await otter::yield(); // the child is now suspended inside the task
  });
  CHECK(rc6 == 0); // returning kills the child
  CHECK(inner_destroyed == 1);
  CHECK(outer_destroyed == 1);
}

TEST_CASE("task - is lazy: nothing runs until it is awaited", "[task]") {
  run(deterministic(), []() -> otter::process {
    bool ran = false;
    auto t = [](bool* r) -> otter::task<> {
      *r = true;
      co_return;
    }(&ran);
    CHECK_FALSE(ran);
    co_await std::move(t);
    CHECK(ran);
  });
}
