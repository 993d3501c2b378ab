#include <otter/blocking.hpp>

#include <atomic>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include <otter/link.hpp>
#include <otter/monitor.hpp>
#include <otter/node.hpp>
#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>

#include "support/otter_test.hpp"

using namespace otter_test;

namespace {

struct go {};
struct finished {
  int value;
};

// A one-shot gate that blocking work can wait at, opened from a process.
struct gate {
  std::promise<void> opened;
  std::shared_future<void> wait = opened.get_future().share();
};

} // namespace

TEST_CASE("blocking - the process gets back what the work returns", "[blocking]") {
  run(deterministic(), []() -> otter::process {
    const std::string got = co_await otter::blocking([] { return std::string("from a blocking thread"); });
    CHECK(got == "from a blocking thread");
  });
}

TEST_CASE("blocking - work that returns nothing resumes the process when it is done", "[blocking]") {
  run(deterministic(), []() -> otter::process {
    auto ran = std::make_shared<std::atomic<bool>>(false);
    auto work = [ran] { ran->store(true); }; // named: g++ 12 and owning captures (docs/gcc12.md)
    co_await otter::blocking(std::move(work));
    CHECK(ran->load());
  });
}

TEST_CASE("blocking - what the work throws is rethrown in the process", "[blocking]") {
  run(deterministic(), []() -> otter::process {
    bool caught = false;
    try {
      co_await otter::blocking([]() -> int { throw std::runtime_error("driver failed"); });
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "driver failed";
    }
    CHECK(caught);
  });
}

TEST_CASE("blocking - the work runs off the node's scheduler threads", "[blocking]") {
  run(deterministic(), []() -> otter::process {
    const int where = co_await otter::blocking([] { return otter::this_scheduler(); });
    CHECK(where == -1);
    CHECK(otter::this_scheduler() == 0); // and the process resumes on its own core
  });
}

TEST_CASE("blocking - other processes of the core run while the work blocks", "[blocking]") {
  run(deterministic(), []() -> otter::process {
    auto g = std::make_shared<gate>();
    // The opener runs on the same (only) core: if the work held the core, it
    // could never open the gate and the work would give up.
    const otter::pid opener = otter::spawn([g]() -> otter::process {
      co_await otter::receive([](go) {});
      g->opened.set_value();
    });
    otter::send(opener, go{});
    auto work = [g] { return g->wait.wait_for(patience) == std::future_status::ready; };
    const bool opened = co_await otter::blocking(std::move(work));
    CHECK(opened);
  });
}

TEST_CASE("blocking - messages that arrive while the work runs stay queued", "[blocking]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid me = otter::self();
    auto g = std::make_shared<gate>();
    otter::spawn([me, g]() -> otter::process {
      otter::send(me, finished{7});
      g->opened.set_value();
      co_return;
    });
    auto work = [g] { g->wait.wait_for(patience); };
    co_await otter::blocking(std::move(work));
    const auto queued = co_await otter::receive<finished>(std::chrono::seconds(0));
    REQUIRE(queued.has_value());
    CHECK(queued->value == 7);
  });
}

TEST_CASE("blocking - a process killed while its work runs exits at once; the work finishes unharmed",
          "[blocking]") {
  auto started = std::make_shared<gate>();
  auto release = std::make_shared<gate>();
  auto finished_work = std::make_shared<std::atomic<bool>>(false);
  run(deterministic(), [started, release, finished_work]() -> otter::process {
    const auto [worker, watch] = otter::spawn_monitor([started, release, finished_work]() -> otter::process {
      // Named, not written inside the co_await: g++ 12 destroys a temporary
      // closure with owning captures twice there (docs/gcc12.md).
      auto work = [started, release, finished_work] {
        started->opened.set_value();
        release->wait.wait_for(patience);
        finished_work->store(true);
        return std::string(64, 'x'); // dropped when it comes back: its process is gone
      };
      co_await otter::blocking(std::move(work));
      otter::exit(otter::exit_reason::custom("unreachable"));
    });
    // Wait (off the core, so the worker can run) until its work is running.
    auto wait_started = [started] { started->wait.wait_for(patience); };
    co_await otter::blocking(std::move(wait_started));
    otter::exit(worker, otter::exit_reason::kill());
    const otter::down_message down = co_await otter::receive<otter::down_message>();
    CHECK(down.reason == otter::exit_reason::killed());
    CHECK_FALSE(finished_work->load()); // the kill did not wait for the work
    release->opened.set_value();
  });
  // The node's destruction waited for the running work.
  CHECK(finished_work->load());
}

TEST_CASE("blocking - work beyond the thread limit queues and all of it completes", "[blocking]") {
  otter::node_options o = deterministic();
  o.blocking_threads = 2;
  run(o, []() -> otter::process {
    const otter::pid me = otter::self();
    constexpr int n = 50;
    for (int i = 0; i < n; ++i) {
      otter::spawn([me, i]() -> otter::process {
        const int v = co_await otter::blocking([i] { return i * 2; });
        otter::send(me, finished{v});
      });
    }
    long sum = 0;
    for (int i = 0; i < n; ++i) {
      const finished f = co_await otter::receive<finished>();
      sum += f.value;
    }
    CHECK(sum == 2L * (n * (n - 1) / 2));
  });
}

TEST_CASE("blocking - virtual time stands still while work is out", "[blocking]") {
  run(deterministic(), []() -> otter::process {
    auto fired = std::make_shared<std::atomic<bool>>(false);
    otter::spawn([fired]() -> otter::process {
      auto r = otter::receive([](go) {}, otter::after(std::chrono::seconds(1), [fired] { fired->store(true); }));
      co_await r;
    });
    // On virtual time a scheduler with nothing to run jumps to its next timer;
    // it must not while blocking work runs, or the 1 s timeout would fire now.
    auto work = [fired] {
      for (int i = 0; i < 20 && !fired->load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return fired->load();
    };
    const bool fired_meanwhile = co_await otter::blocking(std::move(work));
    CHECK_FALSE(fired_meanwhile);
  });
}

TEST_CASE("blocking - runs work for processes on every core", "[blocking][cross-core]") {
  run(two_cores(), []() -> otter::process {
    const otter::pid me = otter::self();
    for (unsigned core = 0; core < 2; ++core) {
      otter::spawn(otter::on_scheduler(core), [me]() -> otter::process {
        const int here = otter::this_scheduler();
        const int v = co_await otter::blocking([here] { return here + 100; });
        otter::send(me, finished{otter::this_scheduler() == here ? v : -1000}); // resumed on its own core
      });
    }
    const finished a = co_await otter::receive<finished>();
    const finished b = co_await otter::receive<finished>();
    CHECK(a.value + b.value == 201);
  });
}
