// The io_uring system calls refused by a real seccomp filter, in a forked
// child: the node fails clearly (which call, which errno, why) instead of
// starting half-working, spinning or hanging.
#include <otter/errors.hpp>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>

#include <csignal>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <otter/node.hpp>
#include <otter/process.hpp>
#include <otter/spawn.hpp>
#include <otter/timer.hpp>

#include "support/otter_test.hpp"

using namespace otter_test;

namespace {

// Makes system call `nr` fail with `err` for this thread, or with `all_threads`
// for every thread of the process (SECCOMP_FILTER_FLAG_TSYNC), the way a
// container's seccomp profile refuses it. False if the kernel refused the filter.
bool refuse_syscall(long nr, int err, bool all_threads = false) {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<__u32>(offsetof(seccomp_data, nr))),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<__u32>(nr), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<__u32>(err) & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  const unsigned long flags = all_threads ? SECCOMP_FILTER_FLAG_TSYNC : 0;
  return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) == 0;
}

struct outcome {
  int status = -1;       // the child's exit status; -1 if it was killed or timed out
  bool timed_out = false; // it did not finish in time and was killed
  std::string output;     // what it wrote to the pipe (its stdout and stderr for programs)
};

constexpr int filter_refused = 20; // the child could not install its filter

// Runs `body(fd)` in a forked child, which writes what it has to say to `fd`
// and returns its exit status. Waits at most `limit` for it, then kills it.
outcome in_child(const std::function<int(int)>& body, std::chrono::seconds limit = std::chrono::seconds(10)) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(fds[0]);
    ::alarm(static_cast<unsigned>(limit.count()) + 5); // a safety net: never outlive the test
    int status = 99;
    try {
      status = body(fds[1]);
    } catch (...) {
      status = 98;
    }
    ::_exit(status);
  }
  ::close(fds[1]);
  outcome out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      out.timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break; // the child closed it: it has exited
    out.output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  if (out.timed_out) ::kill(child, SIGKILL);
  int ws = 0;
  ::waitpid(child, &ws, 0);
  out.status = !out.timed_out && WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
  return out;
}

void say(int fd, const std::string& text) {
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

// The child's statuses for "start a node under a filter".
constexpr int refused_as_expected = 0; // runtime_unavailable with the filter's errno
constexpr int started_anyway = 10;
constexpr int wrong_errno = 11;
constexpr int other_exception = 12;

// In a child: refuses `nr` with `err`, then starts a two-scheduler node.
outcome start_node_refusing(long nr, int err) {
  return in_child([nr, err](int fd) {
    if (!refuse_syscall(nr, err)) return filter_refused;
    try {
      otter::node_options o = two_cores();
      otter::node n(o);
    } catch (const otter::runtime_unavailable& e) {
      say(fd, e.what());
      return e.code().value() == err ? refused_as_expected : wrong_errno;
    } catch (...) {
      return other_exception;
    }
    return started_anyway;
  });
}

} // namespace

TEST_CASE("uring - io_uring_enter refused at start fails the node's start naming io_uring_enter and EPERM",
          "[uring]") {
  const outcome out = start_node_refusing(__NR_io_uring_enter, EPERM);
  INFO(out.output);
  REQUIRE_FALSE(out.timed_out);
  CHECK(out.status == refused_as_expected);
  CHECK(out.output.find("io_uring_enter") != std::string::npos);
  CHECK(out.output.find("EPERM") != std::string::npos);
  CHECK(out.output.find("seccomp") != std::string::npos);
  CHECK(count_of(out.output, std::strerror(EPERM)) == 1);
}

TEST_CASE("uring - io_uring_enter refused while running stops every scheduler and node.run throws", "[uring]") {
  const outcome out = in_child([](int fd) {
    otter::node_options o = two_cores();
    o.log.reports = false;
    otter::node n(o);
    // The node runs; now the kernel refuses its rings (every thread's).
    if (!refuse_syscall(__NR_io_uring_enter, EPERM, true)) return filter_refused;
    try {
      (void)n.run([]() -> otter::process {
        // Work on both cores that needs the rings: a timer each, forever.
        otter::spawn(otter::spread(), []() -> otter::process {
          for (;;) co_await otter::sleep(std::chrono::milliseconds(1));
        });
        for (;;) co_await otter::sleep(std::chrono::milliseconds(1));
      });
    } catch (const otter::runtime_unavailable& e) {
      say(fd, e.what());
      // A second run fails at once, with the same error.
      try {
        (void)n.run([]() -> otter::process { co_return; });
      } catch (const otter::runtime_unavailable& again) {
        return again.code().value() == EPERM && e.code().value() == EPERM ? refused_as_expected : wrong_errno;
      }
      return started_anyway;
    } catch (...) {
      return other_exception;
    }
    return started_anyway; // node.run returned as if nothing had happened
  }); // and the node's destructor returned: every scheduler stopped
  INFO(out.output);
  REQUIRE_FALSE(out.timed_out);
  CHECK(out.status == refused_as_expected);
  CHECK(out.output.find("io_uring_enter") != std::string::npos);
  CHECK(out.output.find("EPERM") != std::string::npos);
  CHECK(count_of(out.output, std::strerror(EPERM)) == 1);
}

TEST_CASE("uring - io_uring_enter answering EBUSY for ever fails the node after bounded retries", "[uring]") {
  const outcome out = in_child([](int fd) {
    if (!refuse_syscall(__NR_io_uring_enter, EBUSY)) return filter_refused;
    try {
      otter::node_options o = two_cores();
      o.log.reports = false;
      otter::node n(o); // may start: EBUSY is transient at first
      (void)n.run([]() -> otter::process {
        for (;;) co_await otter::sleep(std::chrono::milliseconds(1));
      });
    } catch (const otter::runtime_unavailable& e) {
      say(fd, e.what());
      return e.code().value() == EBUSY ? refused_as_expected : wrong_errno;
    } catch (...) {
      return other_exception;
    }
    return started_anyway;
  });
  INFO(out.output);
  REQUIRE_FALSE(out.timed_out);
  CHECK(out.status == refused_as_expected);
  CHECK(out.output.find("io_uring_enter") != std::string::npos);
  CHECK(out.output.find("EBUSY") != std::string::npos);
  CHECK(count_of(out.output, std::strerror(EBUSY)) == 1);
}

TEST_CASE("uring - io_uring_register refused fails the node's start naming io_uring_register and the errno",
          "[uring]") {
  const outcome out = start_node_refusing(__NR_io_uring_register, EPERM);
  INFO(out.output);
  REQUIRE_FALSE(out.timed_out);
  CHECK(out.status == refused_as_expected);
  CHECK(out.output.find("io_uring_register") != std::string::npos);
  CHECK(out.output.find("EPERM") != std::string::npos);
  CHECK(out.output.find("seccomp") != std::string::npos);
  CHECK(out.output.find("5.19") == std::string::npos); // the kernel is not too old
  CHECK(count_of(out.output, std::strerror(EPERM)) == 1);
}

TEST_CASE("uring - io_uring_setup refused fails the node's start naming seccomp and io_uring_disabled", "[uring]") {
  const outcome out = start_node_refusing(__NR_io_uring_setup, EPERM);
  INFO(out.output);
  REQUIRE_FALSE(out.timed_out);
  CHECK(out.status == refused_as_expected);
  CHECK(out.output.find("io_uring_setup") != std::string::npos);
  CHECK(out.output.find("EPERM") != std::string::npos);
  CHECK(out.output.find("kernel.io_uring_disabled") != std::string::npos);
  CHECK(count_of(out.output, std::strerror(EPERM)) == 1);
}

TEST_CASE("uring - receive_buffers that is not a power of two fails the node's start naming the option",
          "[uring]") {
  for (unsigned count : {0u, 3u, 65536u}) {
    otter::node_options o = one_core();
    o.receive_buffers = count;
    std::string what;
    try {
      otter::node n(o);
    } catch (const std::invalid_argument& e) {
      what = e.what();
    }
    INFO(count);
    CHECK(what.find("receive_buffers must be a power of two") != std::string::npos);
  }
  otter::node_options o = one_core();
  o.receive_buffer_size = 0;
  std::string what;
  try {
    otter::node n(o);
  } catch (const std::invalid_argument& e) {
    what = e.what();
  }
  CHECK(what.find("receive_buffer_size") != std::string::npos);
}

TEST_CASE("uring - runtime_unavailable's what() says the errno's text exactly once", "[uring]") {
  const std::string text = std::strerror(EPERM);
  const otter::runtime_unavailable bare(EPERM, "otter: eventfd failed");
  CHECK(std::string(bare.what()) == "otter: eventfd failed: " + text);
  const otter::runtime_unavailable told(EPERM, "otter: io_uring_enter failed with EPERM (" + text + "). Allow it.");
  CHECK(std::string(told.what()) == "otter: io_uring_enter failed with EPERM (" + text + "). Allow it.");
  CHECK(told.code().value() == EPERM);
  const otter::runtime_unavailable copy = told;
  CHECK(std::string(copy.what()) == told.what());
}

// Run from examples/meson.build (it needs the example built): OTTER_EXAMPLE
// names the program, which is started under a filter refusing io_uring_enter.
TEST_CASE("uring - an example's main prints runtime_unavailable once and exits 1", "[.][example]") {
  const char* program = std::getenv("OTTER_EXAMPLE");
  REQUIRE(program != nullptr);
  const outcome out = in_child([program](int fd) {
    if (!refuse_syscall(__NR_io_uring_enter, EPERM)) return filter_refused;
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
    // The filter stays through exec (no_new_privs is set).
    ::execl(program, program, "--port", "0", static_cast<char*>(nullptr));
    return 97;
  });
  INFO(out.output);
  REQUIRE_FALSE(out.timed_out);
  CHECK(out.status == 1);
  CHECK(out.output.find("io_uring_enter") != std::string::npos);
  CHECK(out.output.find("listening") == std::string::npos);
  CHECK(out.output.find("terminate") == std::string::npos);
  CHECK(count_of(out.output, std::strerror(EPERM)) == 1);
}
