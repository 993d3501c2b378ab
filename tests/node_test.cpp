#include <otter/node.hpp>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include <csignal>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <otter/errors.hpp>
#include <otter/link.hpp>
#include <otter/monitor.hpp>
#include <otter/registry.hpp>
#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/timer.hpp>

#include "support/otter_test.hpp"

using namespace otter_test;

namespace {

struct outcome {
  int status = -1;
  std::string message;
};

// Forks; the child makes io_uring_setup fail with `err` (a seccomp filter, the
// way container runtimes refuse it) and tries to start a node. Returns the
// child's exit status (0: runtime_unavailable with errno `err`) and the message.
outcome start_node_with_io_uring_refused(int err) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(fds[0]);
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<__u32>(offsetof(seccomp_data, nr))),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<__u32>(err) & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
      ::_exit(20);
    int status = 10; // the node started: the refusal was not noticed
    try {
      otter::node_options o;
      o.schedulers = 2;
      otter::node n(o);
    } catch (const otter::runtime_unavailable& e) {
      const std::string what = e.what();
      [[maybe_unused]] auto w = ::write(fds[1], what.data(), what.size());
      status = e.code().value() == err ? 0 : 11;
    } catch (...) {
      status = 12;
    }
    ::_exit(status);
  }
  ::close(fds[1]);
  outcome out;
  char buf[1024];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.message.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int ws = 0;
  ::waitpid(child, &ws, 0);
  out.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
  return out;
}

} // namespace

TEST_CASE("node.run - returns 0 when the first process exits normally", "[node]") {
  otter::node node(deterministic());
  const int rc7 = node.run([]() -> otter::process { co_return; });
  CHECK(rc7 == 0);
  CHECK(node.last_exit_reason().is_normal());
}

TEST_CASE("node.run - returns 1 when an exception escapes the first process", "[node]") {
  otter::node_options o = deterministic();
  o.log.reports = false;
  otter::node node(o);
  const int rc8 = node.run([]() -> otter::process {
    throw std::runtime_error("boom");
    co_return;
  });
  CHECK(rc8 == 1);
  CHECK(node.last_exit_reason() == otter::exit_reason::error("std::runtime_error", "boom"));
}

TEST_CASE("node.run - passes arguments to the first process", "[node]") {
  otter::node node(deterministic());
  int seen = 0;
  const int rc9 = node.run([](int a, int* out) -> otter::process {
    *out = a;
    co_return;
  }, 41, &seen);
  CHECK(rc9 == 0);
  CHECK(seen == 41);
}

TEST_CASE("node.run - kills the processes still running when the first exits, running their destructors",
          "[node]") {
  static std::atomic<int> destroyed{0};
  destroyed = 0;
  struct guard {
    ~guard() { ++destroyed; }
  };
  otter::node node(two_cores());
  const int rc10 = node.run([]() -> otter::process {
    const otter::pid me = otter::self();
    for (int i = 0; i < 10; ++i) {
      otter::spawn(otter::spread(), [me]() -> otter::process {
        guard g;
        otter::send(me, 0.5); // running, with its guard alive
        co_await otter::receive<int>(); // never comes
      });
    }
    // Every child is running before the first process exits: one that had not
    // started yet would have no guard to destroy.
    for (int i = 0; i < 10; ++i) co_await otter::receive<double>();
  });
  CHECK(rc10 == 0);
  CHECK(destroyed == 10);
}

TEST_CASE("node.run - can run again after the first process exited", "[node]") {
  otter::node node(deterministic());
  for (int i = 0; i < 3; ++i) {
    const int rc11 = node.run([]() -> otter::process {
      otter::send(otter::self(), 1);
      auto got29 = co_await otter::receive<int>();
      CHECK(got29 == 1);
    });
    CHECK(rc11 == 0);
  }
}

TEST_CASE("node - starts one scheduler per CPU by default", "[node]") {
  otter::node node;
  cpu_set_t set;
  REQUIRE(::sched_getaffinity(0, sizeof set, &set) == 0);
  CHECK(node.schedulers() == static_cast<unsigned>(CPU_COUNT(&set)));
}

TEST_CASE("node - each scheduler runs its processes on its own thread", "[node][cross-core]") {
  otter::node node(two_cores());
  const int rc12 = node.run([]() -> otter::process {
    CHECK(otter::this_scheduler() == 0);
    otter::spawn(otter::on_scheduler(1), [](otter::pid parent) -> otter::process {
      otter::send(parent, otter::this_scheduler());
      otter::send(parent, std::this_thread::get_id());
      co_return;
    }, otter::self());
    auto got30 = co_await otter::receive<int>();
    CHECK(got30 == 1);
    auto got31 = co_await otter::receive<std::thread::id>();
    CHECK(got31 != std::this_thread::get_id());
  });
  CHECK(rc12 == 0);
}

TEST_CASE("node - virtual time needs exactly one scheduler", "[node]") {
  otter::node_options o;
  o.schedulers = 2;
  o.virtual_time = true;
  CHECK_THROWS_AS(otter::node(o), std::invalid_argument);
}

TEST_CASE("node - io_uring refused with EPERM fails with a message naming seccomp", "[node][uring]") {
  const outcome out = start_node_with_io_uring_refused(EPERM);
  INFO(out.message);
  CHECK(out.status == 0);
  CHECK(out.message.find("EPERM") != std::string::npos);
  CHECK(out.message.find("seccomp") != std::string::npos);
  CHECK(out.message.find("io_uring_disabled") != std::string::npos);
}

TEST_CASE("node - io_uring missing (ENOSYS) fails with a message naming the kernel", "[node][uring]") {
  const outcome out = start_node_with_io_uring_refused(ENOSYS);
  INFO(out.message);
  CHECK(out.status == 0);
  CHECK(out.message.find("ENOSYS") != std::string::npos);
  CHECK(out.message.find("kernel") != std::string::npos);
}

TEST_CASE("node - io_uring memory refused (ENOMEM) fails with a message naming the memlock limit",
          "[node][uring]") {
  const outcome out = start_node_with_io_uring_refused(ENOMEM);
  INFO(out.message);
  CHECK(out.status == 0);
  CHECK(out.message.find("ENOMEM") != std::string::npos);
  CHECK(out.message.find("RLIMIT_MEMLOCK") != std::string::npos);
}

TEST_CASE("node - SIGTERM stops the first process with shutdown, and run returns 0", "[node][signals]") {
  otter::node_options o = one_core();
  o.stop_on_signals = true;
  otter::node node(o);
  const int rc = node.run([]() -> otter::process {
    otter::trap_exit(true);
    ::kill(::getpid(), SIGTERM);
    auto e = co_await otter::receive<otter::exit_message>(patience);
    REQUIRE(e);
    CHECK(e->reason == otter::exit_reason::shutdown());
    otter::exit(e->reason); // stop as asked
  });
  CHECK(rc == 0);
  CHECK(node.last_exit_reason() == otter::exit_reason::shutdown());
}

TEST_CASE("node - a second stop signal kills a first process that does not stop", "[node][signals]") {
  otter::node_options o = one_core();
  o.stop_on_signals = true;
  otter::node node(o);
  const int rc = node.run([]() -> otter::process {
    otter::trap_exit(true);
    ::kill(::getpid(), SIGINT);
    co_await otter::receive<otter::exit_message>(patience); // ignored
    ::kill(::getpid(), SIGINT);
    co_await otter::receive<double>(patience); // killed while waiting
  });
  CHECK(rc == 1);
  CHECK(node.last_exit_reason() == otter::exit_reason::killed());
}

TEST_CASE("node - request_stop from another thread stops the first process", "[node][signals]") {
  otter::node node(one_core());
  std::thread stopper;
  const int rc = node.run([](otter::node* n, std::thread* t) -> otter::process {
    *t = std::thread([n] { n->request_stop(); });
    co_await otter::receive<double>(patience); // until stopped
  }, &node, &stopper);
  stopper.join();
  CHECK(rc == 0);
  CHECK(node.last_exit_reason() == otter::exit_reason::shutdown());
}

namespace {
struct from_outside {
  int thread;
  int seq;
};
constexpr int ordered_count = 10'000;
constexpr int threads = 4;
constexpr int each = 2'000;
} // namespace

TEST_CASE("node.send - a thread that is not the node's sends to a process", "[node][send]") {
  otter::node node(one_core());
  std::thread sender;
  const int rc = node.run([](otter::node* n, std::thread* t) -> otter::process {
    const otter::pid me = otter::self();
    *t = std::thread([n, me] { n->send(me, std::string("hello from outside")); });
    const auto got = co_await otter::receive<std::string>(patience);
    REQUIRE(got.has_value());
    CHECK(*got == "hello from outside");
  }, &node, &sender);
  sender.join();
  CHECK(rc == 0);
}

TEST_CASE("node.send - messages from one thread arrive in the order it sent them", "[node][send][cross-core]") {
  otter::node node(two_cores());
  std::thread sender;
  const int rc = node.run([](otter::node* nd, std::thread* t) -> otter::process {
    constexpr int n = ordered_count;
    const otter::pid me = otter::self();
    *t = std::thread([nd, me] {
      for (int i = 0; i < n; ++i) nd->send(me, from_outside{0, i});
    });
    int expected = 0;
    bool in_order = true;
    for (int i = 0; i < n; ++i) {
      const auto m = co_await otter::receive<from_outside>(patience);
      if (!m) break;
      in_order = in_order && m->seq == expected;
      ++expected;
    }
    CHECK(in_order);
    CHECK(expected == ordered_count);
  }, &node, &sender);
  sender.join();
  CHECK(rc == 0);
}

TEST_CASE("node.send - many threads may send at once and every message arrives", "[node][send][cross-core]") {
  otter::node node(two_cores());
  std::vector<std::thread> senders;
  const int rc = node.run([](otter::node* nd, std::vector<std::thread>* ts) -> otter::process {
    // The receiver lives on the other core from the first process.
    const otter::pid me = otter::self();
    const otter::pid receiver = otter::spawn(otter::on_scheduler(1), [me]() -> otter::process {
      int next[threads] = {};
      bool in_order = true;
      for (int i = 0; i < threads * each; ++i) {
        const auto m = co_await otter::receive<from_outside>(patience);
        if (!m) break;
        in_order = in_order && m->seq == next[m->thread];
        ++next[m->thread];
      }
      int total = 0;
      for (int c : next) total += c;
      otter::send(me, from_outside{in_order ? 1 : 0, total});
    });
    for (int t = 0; t < threads; ++t)
      ts->emplace_back([nd, receiver, t] {
        for (int i = 0; i < each; ++i) nd->send(receiver, from_outside{t, i});
      });
    const auto verdict = co_await otter::receive<from_outside>(patience);
    REQUIRE(verdict.has_value());
    CHECK(verdict->thread == 1); // each thread's messages in order
    CHECK(verdict->seq == threads * each);
  }, &node, &senders);
  for (auto& t : senders) t.join();
  CHECK(rc == 0);
}

TEST_CASE("node.send - sending to a registered name from outside; an unknown name returns false",
          "[node][send]") {
  otter::node node(one_core());
  std::thread sender;
  std::atomic<int> unknown_result{-1};
  const int rc = node.run([](otter::node* n, std::thread* t, std::atomic<int>* unknown) -> otter::process {
    otter::register_name("inbox", otter::self());
    *t = std::thread([n, unknown] {
      unknown->store(n->send("nobody", 1) ? 1 : 0);
      (void)n->send("inbox", 42);
    });
    const auto got = co_await otter::receive<int>(patience);
    REQUIRE(got.has_value());
    CHECK(*got == 42);
  }, &node, &sender, &unknown_result);
  sender.join();
  CHECK(rc == 0);
  CHECK(unknown_result.load() == 0);
}

TEST_CASE("node.send - a message to a process that has exited is dropped", "[node][send]") {
  otter::node node(one_core());
  std::thread sender;
  const int rc = node.run([](otter::node* n, std::thread* t) -> otter::process {
    const auto [gone, watch] = otter::spawn_monitor([]() -> otter::process { co_return; });
    co_await otter::receive<otter::down_message>();
    const otter::pid me = otter::self();
    *t = std::thread([n, gone, me] {
      n->send(gone, std::string("into the void"));
      n->send(me, 1);
    });
    const auto got = co_await otter::receive<int>(patience);
    CHECK(got.has_value());
  }, &node, &sender);
  sender.join();
  CHECK(rc == 0);
}
