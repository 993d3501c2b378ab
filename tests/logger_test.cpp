#include <otter/logger.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <otter/monitor.hpp>
#include <otter/node.hpp>
#include <otter/receive.hpp>
#include <otter/registry.hpp>
#include <otter/spawn.hpp>

#include "support/log_capture.hpp"
#include "support/otter_test.hpp"

using namespace otter_test;

namespace {

// A door a sink waits at until the test opens it. Held by a shared_ptr: a sink
// the node's destructor left behind still reaches it afterwards.
class gate {
public:
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    opened_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex_);
    opened_.wait(lock, [this] { return open_; });
  }

private:
  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = false;
};

// Opens the gate when the test leaves, whatever happened in it.
struct open_at_exit {
  std::shared_ptr<gate> g;
  ~open_at_exit() { g->open(); }
};

otter::process crasher(int i) {
  throw std::runtime_error("crash " + std::to_string(i));
  co_return;
}

// Starts `n` processes that crash, in order, and waits until all of them are gone.
otter::process crash_many(int n) {
  for (int i = 0; i < n; ++i) (void)otter::spawn_monitor(crasher, i);
  for (int i = 0; i < n; ++i) {
    const bool down = co_await otter::receive(otter::when([](const otter::down_message&) { return true; },
                                                          [](otter::down_message) { return true; }),
                                              otter::after(patience, [] { return false; }));
    REQUIRE(down);
  }
}

// fd 2 is replaced by the write end of a pipe for as long as this lives.
class stderr_to_pipe {
public:
  explicit stderr_to_pipe(bool nonblocking) {
    REQUIRE(::pipe2(fds_, O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0)) == 0);
    saved_ = ::dup(STDERR_FILENO);
    REQUIRE(saved_ >= 0);
    REQUIRE(::dup2(fds_[1], STDERR_FILENO) == STDERR_FILENO);
  }
  ~stderr_to_pipe() {
    restore();
    ::close(fds_[0]); // a writer still blocked on the pipe now fails with EPIPE
    ::close(fds_[1]);
  }
  void restore() {
    if (saved_ < 0) return;
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }
  /// Everything written so far (call after restore()).
  std::string read_all() {
    ::fcntl(fds_[0], F_SETFL, O_NONBLOCK);
    std::string out;
    char buf[4096];
    for (int i = 0; i < 1000; ++i) {
      const ssize_t n = ::read(fds_[0], buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

private:
  int fds_[2] = {-1, -1};
  int saved_ = -1;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

} // namespace

TEST_CASE("logger - a sink that blocks does not stop crashing processes from exiting", "[logger]") {
  auto g = std::make_shared<gate>();
  open_at_exit opener{g};
  log_capture log;
  otter::node_options o = deterministic();
  o.log.sink = [g, into = log.sink()](const otter::log_record& r) {
    g->wait();
    into(r);
  };
  {
    otter::node node(o);
    const int rc = node.run(crash_many, 1000); // returns while the sink is still stuck
    CHECK(rc == 0);
    g->open();
  } // and now the node's destructor writes out the queue
  CHECK(log.of<otter::crash_report>().size() == 1000);
}

TEST_CASE("logger - records beyond the queue's bound are dropped, and their count follows once the sink catches up",
          "[logger]") {
  auto g = std::make_shared<gate>();
  open_at_exit opener{g};
  log_capture log;
  otter::node_options o = deterministic();
  o.log.max_queued_records = 10;
  o.log.sink = [g, into = log.sink()](const otter::log_record& r) {
    g->wait();
    into(r);
  };
  {
    otter::node node(o);
    const int rc = node.run(crash_many, 100);
    CHECK(rc == 0);
    g->open();
  }
  // Ten fitted (the one in the sink's hands counts until it is written), in order; then the count.
  REQUIRE(log.records->size() == 11);
  for (int i = 0; i < 10; ++i) {
    const auto* c = std::get_if<otter::crash_report>(&(*log.records)[static_cast<std::size_t>(i)]);
    REQUIRE(c != nullptr);
    CHECK(c->reason.detail() == "crash " + std::to_string(i));
  }
  const auto* d = std::get_if<otter::dropped_reports>(&log.records->back());
  REQUIRE(d != nullptr);
  CHECK(d->count == 90);
  CHECK(otter::to_string(log.records->back()) == "otter: 90 log reports dropped (the log sink was too slow)");
}

TEST_CASE("logger - records reach the sink in the order they were logged", "[logger]") {
  log_capture log;
  otter::node_options o = deterministic();
  o.log.sink = log.sink();
  run(o, crash_many, 300);
  const auto crashes = log.of<otter::crash_report>();
  REQUIRE(crashes.size() == 300);
  for (std::size_t i = 0; i < crashes.size(); ++i) CHECK(crashes[i].reason.detail() == "crash " + std::to_string(i));
}

TEST_CASE("logger - the sink runs on the logger thread, never on a scheduler", "[logger]") {
  auto where = std::make_shared<std::vector<int>>();
  otter::node_options o = two_cores();
  o.log.sink = [where](const otter::log_record&) { where->push_back(otter::this_scheduler()); };
  run(o, crash_many, 20);
  REQUIRE(where->size() == 20);
  for (int s : *where) CHECK(s == -1);
}

TEST_CASE("logger - with reports off, nothing is logged", "[logger]") {
  log_capture log;
  otter::node_options o = deterministic();
  o.log.reports = false;
  o.log.sink = log.sink();
  run(o, crash_many, 5);
  CHECK(log.records->empty());
}

TEST_CASE("logger - the default sink writes each report as one line to fd 2", "[logger]") {
  stderr_to_pipe pipe(false);
  {
    otter::node node(deterministic());
    node.run([]() -> otter::process {
      otter::spawn_monitor([]() -> otter::process {
        otter::register_name("worker", otter::self());
        throw std::runtime_error("two\nlines");
        co_return;
      });
      co_await otter::receive<otter::down_message>();
    });
  }
  pipe.restore();
  const std::vector<std::string> lines = lines_of(pipe.read_all());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("otter: process <0.", 0) == 0);
  CHECK(lines[0].find(" (worker) crashed: {error,std::runtime_error,\"two\\nlines\"}") != std::string::npos);
}

TEST_CASE("logger - a stderr pipe that nobody reads does not stall the node", "[logger]") {
  const bool nonblocking = GENERATE(false, true);
  INFO((nonblocking ? "non-blocking pipe" : "blocking pipe"));
  stderr_to_pipe pipe(nonblocking);
  otter::node_options o = two_cores();
  o.log.flush_timeout = std::chrono::milliseconds(200);
  int rc = -1;
  {
    otter::node node(o);
    rc = node.run(crash_many, 2000); // far more than the pipe holds
  } // and the destructor gives up on the pipe after the flush timeout
  pipe.restore();
  CHECK(rc == 0);
}

TEST_CASE("logger - a sink stuck for ever does not hang the node's destructor", "[logger]") {
  auto g = std::make_shared<gate>();
  open_at_exit opener{g};
  auto calls = std::make_shared<std::atomic<int>>(0);
  otter::node_options o = deterministic();
  o.log.flush_timeout = std::chrono::milliseconds(100);
  o.log.sink = [g, calls](const otter::log_record&) {
    calls->fetch_add(1);
    g->wait();
  };
  {
    otter::node node(o);
    const int rc = node.run(crash_many, 3);
    CHECK(rc == 0);
  } // returns although the sink never does (until the gate opens below)
  CHECK(calls->load() == 1);
}

TEST_CASE("crash_report - a report is one line, naming the process, its name and the reason", "[logger]") {
  otter::crash_report r;
  r.process = otter::pid::make(0, 3, 1);
  r.registered_name = "worker";
  r.reason = otter::exit_reason::error("std::logic_error", "bad\nstate");
  CHECK(r.to_string() == "otter: process <0.3.1> (worker) crashed: {error,std::logic_error,\"bad\\nstate\"}");
  r.supervisor = otter::pid::make(0, 1, 1);
  r.supervisor_name = "app";
  r.child_id = "db";
  CHECK(r.to_string() ==
        "otter: process <0.3.1> (worker) crashed: {error,std::logic_error,\"bad\\nstate\"}; child db of supervisor "
        "<0.1.1> (app)");
}

// g++ 12 at -O3 warns, falsely, that the short-string assignments below read
// an uninitialised member (libstdc++'s SSO copy inlined); clang does not.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
TEST_CASE("supervisor_report - a report is one line, naming supervisor, context, child and reason", "[logger]") {
  otter::supervisor_report r;
  r.supervisor = otter::pid::make(0, 1, 1);
  r.supervisor_name = "app";
  r.what = otter::supervisor_report::context::child_terminated;
  r.child_id = "db";
  r.child = otter::pid::make(1, 2, 1);
  r.reason = otter::exit_reason::killed();
  CHECK(r.to_string() == "otter: supervisor <0.1.1> (app) child_terminated: child db <1.2.1>, reason killed");
  r.supervisor_name.clear();
  r.what = otter::supervisor_report::context::start_error;
  r.child = {};
  r.reason = otter::exit_reason::custom("no_db");
  CHECK(r.to_string() == "otter: supervisor <0.1.1> start_error: child db, reason no_db");
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
