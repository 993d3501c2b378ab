// The interop harness itself: later tests lean on it to never hang or leak processes.
#include "erl_process.hpp"

#include <catch2/catch.hpp>

#include <csignal>

using namespace otter_test;
using namespace std::chrono_literals;

namespace {
bool alive(pid_t p) { return ::kill(p, 0) == 0; }
} // namespace

TEST_CASE("erl harness - wait_line finds output lines in order and times out on absent text", "[dist][harness]") {
  auto c = child_process::start({"sh", "-c", "echo one; echo two; echo three >&2; exec cat"});
  CHECK(c.wait_line("two", 10s));
  CHECK(c.wait_line("three", 10s)); // stderr is read too
  CHECK_FALSE(c.wait_line("one", 200ms)); // already passed
  REQUIRE(c.write_stdin("echoed\n"));
  CHECK(c.wait_line("echoed", 10s));
  CHECK(c.running());
}

TEST_CASE("erl harness - exit codes are reported, and wait_exit is bounded", "[dist][harness]") {
  auto c = child_process::start({"sh", "-c", "exit 3"});
  REQUIRE(c.wait_exit(10s));
  CHECK(c.exit_code() == 3);
  auto slow = child_process::start({"sleep", "30"});
  CHECK_FALSE(slow.wait_exit(50ms));
  CHECK_FALSE(slow.exit_code());
  slow.kill();
  REQUIRE(slow.wait_exit(10s));
  CHECK(slow.exit_code() == 128 + SIGKILL);
}

TEST_CASE("erl harness - killing a child kills its whole process group", "[dist][harness]") {
  pid_t grandchild = 0;
  {
    auto c = child_process::start({"sh", "-c", "sleep 30 & echo pid $!; wait"});
    REQUIRE(c.wait_line("pid ", 10s));
    const std::string out = c.output();
    grandchild = static_cast<pid_t>(std::stol(out.substr(out.find("pid ") + 4)));
    CHECK(alive(grandchild));
  } // the destructor kills the group
  // The grandchild was reparented (not our child): it is gone once the kill lands.
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = !alive(grandchild);
    if (!gone) ::poll(nullptr, 0, 10);
  }
  CHECK(gone);
}

TEST_CASE("erl harness - free_port gives a bindable port other than 4369", "[dist][harness]") {
  const auto p = free_port();
  CHECK(p != 0);
  CHECK(p != 4369);
  CHECK_FALSE(wait_listening(p, 50ms));
}

TEST_CASE("erl harness - a private epmd starts on its port and stops with its owner", "[dist][harness][erl]") {
  if (!erlang_available()) {
    WARN("erl or epmd is not installed: skipped");
    return;
  }
  const auto port = free_port();
  {
    auto d = epmd_daemon::start(port);
    CHECK(wait_listening(port, 1s));
  }
  CHECK_FALSE(wait_listening(port, 50ms));
}
