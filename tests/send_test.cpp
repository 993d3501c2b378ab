#include <otter/send.hpp>

#include <memory>
#include <string>
#include <vector>

#include <otter/errors.hpp>
#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/registry.hpp>
#include <otter/spawn.hpp>
#include <otter/task.hpp>

#include "support/otter_test.hpp"

using namespace otter_test;

namespace {

struct numbered {
  int sender;
  int seq;
};
struct done {
  int sender;
};

struct copy_counter {
  int* copies;
  explicit copy_counter(int* c) : copies(c) {}
  copy_counter(const copy_counter& o) : copies(o.copies) { ++*copies; }
  copy_counter(copy_counter&&) noexcept = default;
};

otter::process sequence_sender(otter::pid to, int sender, int count) {
  for (int i = 0; i < count; ++i) {
    otter::send(to, numbered{sender, i});
    if (i % 97 == 0) co_await otter::yield(); // interleave with the other senders
  }
  otter::send(to, done{sender});
}

// Receives from `senders` senders until each says done; true if every sender's
// messages came in sequence.
otter::task<bool> all_in_order(int senders, int per_sender) {
  std::vector<int> next(static_cast<std::size_t>(senders), 0);
  bool in_order = true;
  int finished = 0;
  while (finished < senders) {
    bool ok = co_await otter::receive(
        [&](numbered n) {
          if (n.seq != next[static_cast<std::size_t>(n.sender)]) in_order = false;
          next[static_cast<std::size_t>(n.sender)] = n.seq + 1;
          return true;
        },
        [&](done d) {
          if (next[static_cast<std::size_t>(d.sender)] != per_sender) in_order = false;
          ++finished;
          return true;
        },
        otter::after(patience, [] { return false; }));
    if (!ok) co_return false;
  }
  co_return in_order;
}

} // namespace

TEST_CASE("send - messages from one sender arrive in send order on one core", "[send]") {
  run(deterministic(), []() -> otter::process {
    for (int s = 0; s < 4; ++s) otter::spawn(sequence_sender, otter::self(), s, 1000);
    auto got36 = co_await all_in_order(4, 1000);
    CHECK(got36);
  });
}

TEST_CASE("send - messages from one sender arrive in send order across cores, with concurrent senders",
          "[send][cross-core]") {
  run(two_cores(), []() -> otter::process {
    REQUIRE(otter::this_scheduler() == 0);
    for (int s = 0; s < 8; ++s)
      otter::spawn(otter::on_scheduler(1), sequence_sender, otter::self(), s, 20000);
    auto got37 = co_await all_in_order(8, 20000);
    CHECK(got37);
  });
}

TEST_CASE("send - to a process that has exited is a silent no-op", "[send]") {
  run(deterministic(), []() -> otter::process {
    otter::pid child = otter::spawn([](otter::pid parent) -> otter::process {
      otter::send(parent, std::string("bye"));
      co_return;
    }, otter::self());
    auto got38 = co_await otter::receive<std::string>();
    CHECK(got38 == "bye");
    co_await otter::yield(); // the child has finished exiting
    otter::send(child, 1);   // no effect, no error
    otter::send(otter::pid{}, 2);
    auto got39 = co_await otter::receive<int>(10ms);
    CHECK_FALSE(got39.has_value());
  });
}

TEST_CASE("send - to a dead process on another core is a silent no-op", "[send][cross-core]") {
  run(two_cores(), []() -> otter::process {
    otter::pid child = otter::spawn(otter::on_scheduler(1), [](otter::pid parent) -> otter::process {
      otter::send(parent, 1);
      co_return;
    }, otter::self());
    auto got40 = co_await otter::receive<int>();
    CHECK(got40 == 1);
    for (int i = 0; i < 100; ++i) otter::send(child, std::make_unique<int>(i)); // freed, not leaked
    // A fresh process on that core gets none of them.
    otter::pid next = otter::spawn(otter::on_scheduler(1), [](otter::pid parent) -> otter::process {
      auto stray = co_await otter::receive<std::unique_ptr<int>>(50ms);
      otter::send(parent, !stray.has_value());
    }, otter::self());
    CHECK(next != child);
    auto got41 = co_await otter::receive<bool>();
    CHECK(got41);
  });
}

TEST_CASE("send - moves the message into the receiver without copying it", "[send]") {
  run(deterministic(), []() -> otter::process {
    int copies = 0;
    otter::pid echo = otter::spawn([](otter::pid back) -> otter::process {
      auto c = co_await otter::receive<copy_counter>();
      otter::send(back, std::move(c));
    }, otter::self());
    otter::send(echo, copy_counter{&copies});
    co_await otter::receive<copy_counter>();
    CHECK(copies == 0);
  });
}

TEST_CASE("send - to a registered name reaches the process", "[send][registry]") {
  run(deterministic(), []() -> otter::process {
    otter::register_name("me", otter::self());
    otter::send("me", 11);
    auto got42 = co_await otter::receive<int>();
    CHECK(got42 == 11);
  });
}

TEST_CASE("send - to an unregistered name throws badarg", "[send][registry]") {
  run(deterministic(), []() -> otter::process {
    CHECK_THROWS_AS(otter::send("nobody", 1), otter::badarg);
    co_return;
  });
}

TEST_CASE("send - outside the node's threads throws logic_error", "[send]") {
  CHECK_THROWS_AS(otter::send(otter::pid{}, 1), std::logic_error);
}
