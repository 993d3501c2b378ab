#include <otter/gen_server.hpp>

#include <string>
#include <vector>

#include <otter/link.hpp>
#include <otter/monitor.hpp>
#include <otter/node.hpp>
#include <otter/timer.hpp>

#include "support/await.hpp"
#include "support/otter_test.hpp"

using namespace otter_test;
namespace gs = otter::gen_server;

namespace {

struct get {};
struct add {
  int n;
};
struct slow_get {
  using reply_type = int;
};
struct release_slow {};
struct sleepy_get {
  std::chrono::milliseconds delay;
};
struct crash {};
struct stop_after_reply {};
struct who_calls {};

// A counter with every kind of handler.
class counter {
public:
  void init(int start, otter::pid observer) {
    value_ = start;
    observer_ = observer;
  }

  int handle_call(get) { return value_; }
  void handle_call(slow_get, gs::reply_to<int> from) { pending_.push_back(from); } // replied by release_slow
  otter::task<int> handle_call(sleepy_get g) {
    co_await otter::sleep(g.delay);
    co_return value_;
  }
  int handle_call(crash) { throw std::runtime_error("handler failed"); }
  std::string handle_call(stop_after_reply) {
    gs::stop_self(otter::exit_reason::shutdown("asked to"));
    return "bye";
  }
  otter::pid handle_call(who_calls) { return otter::self(); }

  void handle_cast(add a) { value_ += a.n; }
  void handle_cast(release_slow) {
    for (auto& from : pending_) from.reply(value_);
    pending_.clear();
  }

  void handle_info(otter::message m) {
    if (auto* n = m.get_if<int>()) value_ += *n;
  }

  void terminate(const otter::exit_reason& reason) { otter::send(observer_, std::string("terminate " + reason.to_string())); }

private:
  int value_ = 0;
  otter::pid observer_;
  std::vector<gs::reply_to<int>> pending_;
};

// Built by its constructor; no init.
class constructed {
public:
  explicit constructed(std::string greeting) : greeting_(std::move(greeting)) {}
  std::string handle_call(get) { return greeting_; }

private:
  std::string greeting_;
};

class failing_init {
public:
  void init() { throw std::invalid_argument("bad config"); }
  int handle_call(get) { return 0; }
};

class ignoring_init {
public:
  gs::init_result init() { return gs::init_result::ignore; }
  int handle_call(get) { return 0; }
};

otter::task<std::string> terminate_note() {
  auto note = co_await otter::receive<std::string>(patience);
  co_return note.value_or("(none)");
}

} // namespace

TEST_CASE("gen_server - init gets the start arguments and start_link returns the server", "[gen_server][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    gs::start_options o;
    o.spawn = where;
    auto started = co_await gs::start_link<counter>(o, 40, otter::self());
    REQUIRE(started);
    auto value = co_await gs::call(*started, get{});
    CHECK(value == 40);
    CHECK(started->pid().scheduler() == static_cast<unsigned>(where.where == otter::spawn_options::placement::caller ? 0 : 1));
  });
}

TEST_CASE("gen_server - a server without init is built by its constructor", "[gen_server]") {
  run(deterministic(), []() -> otter::process {
    auto started = co_await gs::start_link<constructed>(std::string("hello"));
    REQUIRE(started);
    auto greeting = co_await gs::call(*started, get{});
    CHECK(greeting == "hello");
  });
}

TEST_CASE("gen_server - start_link fails with init's reason and the caller survives the link", "[gen_server]") {
  otter::node_options o = deterministic();
  o.log.reports = false;
  run(o, []() -> otter::process {
    auto started = co_await gs::start_link<failing_init>();
    REQUIRE_FALSE(started);
    CHECK(started.error() == otter::exit_reason::error("std::invalid_argument", "bad config"));
    co_await otter::sleep(1ms); // any exit signal through the link would have killed us by now
  });
}

TEST_CASE("gen_server - init may ignore: the start succeeds without a server", "[gen_server]") {
  run(deterministic(), []() -> otter::process {
    auto started = co_await gs::start_link<ignoring_init>();
    REQUIRE(started);
    CHECK_FALSE(started->pid());
  });
}

TEST_CASE("gen_server - a registered server is called by name; the name cannot be taken twice", "[gen_server]") {
  run(deterministic(), []() -> otter::process {
    gs::start_options o;
    o.name = "counter";
    auto first = co_await gs::start_link<counter>(o, 1, otter::self());
    REQUIRE(first);
    auto by_name = otter::server_ref<counter>::named("counter");
    auto value = co_await gs::call(by_name, get{});
    CHECK(value == 1);
    auto second = co_await gs::start_link<counter>(o, 2, otter::self());
    REQUIRE_FALSE(second);
    CHECK(second.error() == otter::exit_reason::custom("already_started"));
  });
}

TEST_CASE("call - returns what handle_call returns", "[gen_server][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    gs::start_options o;
    o.spawn = where;
    auto server = (co_await gs::start_link<counter>(o, 0, otter::self())).value();
    gs::cast(server, add{5});
    gs::cast(server, add{6});
    auto value = co_await gs::call(server, get{});
    CHECK(value == 11);
  });
}

TEST_CASE("call - to a server that does not exist fails with noproc", "[gen_server][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    gs::start_options o;
    o.spawn = where;
    auto server = (co_await gs::start<counter>(o, 0, otter::self())).value();
    co_await gs::stop(server);
    co_await terminate_note();
    otter::exit_reason reason;
    try {
      co_await gs::call(server, get{});
    } catch (const otter::call_error& e) {
      reason = e.reason();
    }
    CHECK(reason == otter::exit_reason::noproc());
    auto unregistered = co_await gs::try_call(otter::server_ref<counter>::named("nobody"), get{});
    CHECK(unregistered.error() == otter::exit_reason::noproc());
  });
}

TEST_CASE("call - times out when the reply is late, and the late reply never arrives", "[gen_server][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    gs::start_options o;
    o.spawn = where;
    auto server = (co_await gs::start_link<counter>(o, 7, otter::self())).value();
    auto late = co_await gs::try_call(server, sleepy_get{200ms}, 20ms);
    REQUIRE_FALSE(late);
    CHECK(late.error() == otter::exit_reason::timeout());
    // By the time this call is answered, the late reply has been sent too.
    auto value = co_await gs::call(server, get{});
    CHECK(value == 7);
    auto stray = co_await otter::receive([](otter::message) { return true; }, otter::after(300ms, [] { return false; }));
    CHECK_FALSE(stray);
  });
}

TEST_CASE("call - fails with the server's exit reason when it dies during the call", "[gen_server][cross-core]") {
  otter::node_options one = deterministic();
  one.log.reports = false;
  otter::node_options two = two_cores();
  two.log.reports = false;
  auto body = [](otter::spawn_options where) -> otter::process {
    gs::start_options o;
    o.spawn = where;
    auto server = (co_await gs::start<counter>(o, 0, otter::self())).value();
    auto r = co_await gs::try_call(server, crash{});
    REQUIRE_FALSE(r);
    CHECK(r.error() == otter::exit_reason::error("std::runtime_error", "handler failed"));
    auto note = co_await terminate_note(); // terminate ran with the reason
    CHECK(note == "terminate {error,std::runtime_error,\"handler failed\"}");
  };
  SECTION("on one core") { run(one, body, otter::spawn_options{}); }
  SECTION("across cores") { run(two, body, otter::on_scheduler(1)); }
}

TEST_CASE("call - a deferred reply comes from another handler", "[gen_server][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    gs::start_options o;
    o.spawn = where;
    auto server = (co_await gs::start_link<counter>(o, 3, otter::self())).value();
    // A helper releases the pending call once it is in.
    otter::spawn([](otter::server_ref<counter> s) -> otter::process {
      co_await otter::sleep(5ms);
      gs::cast(s, release_slow{});
    }, server);
    auto value = co_await gs::call(server, slow_get{});
    CHECK(value == 3);
  });
}

TEST_CASE("call - a coroutine handler may wait before replying", "[gen_server]") {
  run(deterministic(), []() -> otter::process {
    auto server = (co_await gs::start_link<counter>(9, otter::self())).value();
    auto value = co_await gs::call(server, sleepy_get{10ms});
    CHECK(value == 9);
  });
}

TEST_CASE("call - messages queued before the call stay queued, in order", "[gen_server]") {
  run(deterministic(), []() -> otter::process {
    auto server = (co_await gs::start_link<counter>(1, otter::self())).value();
    for (int i = 0; i < 1000; ++i) otter::send(otter::self(), i);
    auto value = co_await gs::call(server, get{});
    CHECK(value == 1);
    int expected = 0;
    bool in_order = true;
    for (int i = 0; i < 1000; ++i) in_order &= (co_await otter::receive<int>()) == expected++;
    CHECK(in_order);
  });
}

TEST_CASE("cast - handle_cast runs; a cast to a dead server is dropped", "[gen_server][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    gs::start_options o;
    o.spawn = where;
    auto server = (co_await gs::start<counter>(o, 0, otter::self())).value();
    gs::cast(server, add{2});
    auto value = co_await gs::call(server, get{});
    CHECK(value == 2);
    co_await gs::stop(server);
    co_await terminate_note();
    gs::cast(server, add{1}); // nothing happens
    co_return;
  });
}

TEST_CASE("handle_info - receives the messages that are not calls or casts", "[gen_server][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    gs::start_options o;
    o.spawn = where;
    auto server = (co_await gs::start_link<counter>(o, 0, otter::self())).value();
    otter::send(server.pid(), 10);
    otter::send(server.pid(), std::string("ignored"));
    auto value = co_await gs::call(server, get{});
    CHECK(value == 10);
  });
}

TEST_CASE("stop - runs terminate with the reason and waits for the server to exit", "[gen_server][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    gs::start_options o;
    o.spawn = where;
    auto server = (co_await gs::start<counter>(o, 0, otter::self())).value();
    const otter::ref m = otter::monitor(server.pid());
    co_await gs::stop(server, otter::exit_reason::shutdown("done"));
    auto note = co_await terminate_note();
    CHECK(note == "terminate {shutdown,\"done\"}");
    auto down = co_await down_of(m);
    REQUIRE(down);
    CHECK(down->reason == otter::exit_reason::shutdown("done"));
  });
}

TEST_CASE("stop_self - a handler stops the server after its reply is sent", "[gen_server]") {
  run(deterministic(), []() -> otter::process {
    auto server = (co_await gs::start<counter>(gs::start_options{}, 0, otter::self())).value();
    const otter::ref m = otter::monitor(server.pid());
    auto reply = co_await gs::call(server, stop_after_reply{});
    CHECK(reply == "bye");
    auto down = co_await down_of(m);
    REQUIRE(down);
    CHECK(down->reason == otter::exit_reason::shutdown("asked to"));
  });
}

namespace {

class trapping {
public:
  void init(otter::pid observer) {
    observer_ = observer;
    otter::trap_exit(true);
  }
  int handle_call(get) { return 1; }
  void terminate(const otter::exit_reason& r) { otter::send(observer_, std::string("terminate " + r.to_string())); }

private:
  otter::pid observer_;
};

struct started_by {
  otter::pid parent;
  otter::server_ref<trapping> server;
};

} // namespace

TEST_CASE("gen_server - a server that traps exits terminates when its parent exits", "[gen_server][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    const otter::pid me = otter::self();
    otter::spawn(where, [](otter::pid observer) -> otter::process {
      auto server = (co_await gs::start_link<trapping>(observer)).value();
      otter::send(observer, started_by{otter::self(), server});
      co_await otter::receive<double>(); // until killed
    }, me);
    auto s = co_await otter::receive<started_by>();
    const otter::ref m = otter::monitor(s.server.pid());
    otter::exit(s.parent, otter::exit_reason::custom("parent died"));
    auto note = co_await terminate_note();
    CHECK(note == "terminate parent died");
    auto down = co_await down_of(m);
    REQUIRE(down);
    CHECK(down->reason == otter::exit_reason::custom("parent died"));
  });
}

// ------------------------------------------------------ handle_info by type

namespace {

struct tick {
  int n;
};
struct dropped {};
struct get_log {};
struct watch {
  otter::pid who;
};

// Tells `observer` when it is destroyed while it still owns the pid: a message
// that nobody takes is destroyed at once.
struct noisy {
  explicit noisy(otter::pid o) : observer(o) {}
  noisy(noisy&& other) noexcept : observer(std::exchange(other.observer, {})) {}
  noisy& operator=(noisy&&) = delete;
  ~noisy() {
    if (observer) otter::send(observer, dropped{});
  }
  otter::pid observer;
};

// One typed handle_info: otter reads the type from its signature.
class ticking {
public:
  int handle_call(get) { return ticks_; }
  void handle_info(const tick& t) { ticks_ += t.n; }

private:
  int ticks_ = 0;
};

// Overloads, listed; the catch-all takes what the typed ones do not.
class watcher {
public:
  using info_types = gs::info<tick, otter::down_message>;

  std::vector<std::string> handle_call(get_log) { return log_; }
  bool handle_call(watch w) {
    otter::monitor(w.who); // a dead process: its DOWN is queued at once
    return true;
  }
  void handle_info(tick t) { log_.push_back("tick " + std::to_string(t.n)); }
  void handle_info(const otter::down_message& d) { log_.push_back("down " + d.reason.to_string()); }
  void handle_info(otter::message m) { log_.push_back(m.is<int>() ? "int" : "other"); }

private:
  std::vector<std::string> log_;
};

// A coroutine handle_info that holds a reference to its message while it waits.
class slow_ticking {
public:
  int handle_call(get) { return ticks_; }
  otter::task<> handle_info(const tick& t) {
    co_await otter::sleep(5ms);
    ticks_ += t.n;
  }

private:
  int ticks_ = 0;
};

otter::task<otter::pid> dead_process() {
  const otter::pid p = otter::spawn([]() -> otter::process { co_return; });
  co_await reason_of(p);
  co_return p;
}

} // namespace

TEST_CASE("handle_info - a typed handle_info gets the messages of its type; others are dropped", "[gen_server]") {
  run(deterministic(), []() -> otter::process {
    auto server = (co_await gs::start_link<ticking>()).value();
    otter::send(server.pid(), tick{2});
    otter::send(server.pid(), noisy(otter::self()));
    otter::send(server.pid(), tick{3});
    auto ticks = co_await gs::call(server, get{});
    CHECK(ticks == 5);
    auto gone = co_await otter::receive<dropped>(0ms); // destroyed before the call was answered
    CHECK(gone.has_value());
  });
}

TEST_CASE("handle_info - listed types go to their overloads, anything else to the catch-all",
          "[gen_server][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    gs::start_options o;
    o.spawn = where;
    auto server = (co_await gs::start_link<watcher>(o)).value();
    const otter::pid gone = co_await dead_process();
    co_await gs::call(server, watch{gone});
    otter::send(server.pid(), tick{1});
    otter::send(server.pid(), 42);
    otter::send(server.pid(), std::string("hello"));
    auto log = co_await gs::call(server, get_log{});
    CHECK(log == std::vector<std::string>{"down noproc", "tick 1", "int", "other"});
  });
}

TEST_CASE("handle_info - a coroutine handle_info may wait; its message lives until it returns", "[gen_server]") {
  run(deterministic(), []() -> otter::process {
    auto server = (co_await gs::start_link<slow_ticking>()).value();
    otter::send(server.pid(), tick{4});
    otter::send(server.pid(), tick{5});
    auto ticks = co_await gs::call(server, get{});
    CHECK(ticks == 9);
  });
}

// ------------------------------------------------------------ terminate forms

namespace {

class plain_terminate {
public:
  void init(otter::pid observer) { observer_ = observer; }
  int handle_call(get) { return 0; }
  void terminate() { otter::send(observer_, std::string("terminated")); }

private:
  otter::pid observer_;
};

class coroutine_terminate {
public:
  void init(otter::pid observer) { observer_ = observer; }
  int handle_call(get) { return 0; }
  otter::task<> terminate() {
    co_await otter::sleep(5ms);
    otter::send(observer_, std::string("terminated late"));
  }

private:
  otter::pid observer_;
};

} // namespace

TEST_CASE("terminate - a terminate() without the reason runs when the server stops", "[gen_server]") {
  run(deterministic(), []() -> otter::process {
    auto server = (co_await gs::start<plain_terminate>(gs::start_options{}, otter::self())).value();
    co_await gs::stop(server, otter::exit_reason::shutdown());
    auto note = co_await terminate_note();
    CHECK(note == "terminated");
  });
}

TEST_CASE("terminate - a coroutine terminate() finishes before the server exits", "[gen_server]") {
  run(deterministic(), []() -> otter::process {
    auto server = (co_await gs::start<coroutine_terminate>(gs::start_options{}, otter::self())).value();
    const otter::ref m = otter::monitor(server.pid());
    co_await gs::stop(server);
    // The note was sent before the exit, so it is queued before the DOWN.
    auto note = co_await otter::receive<std::string>(0ms);
    CHECK(note == std::optional<std::string>("terminated late"));
    auto down = co_await down_of(m);
    REQUIRE(down);
    CHECK(down->reason == otter::exit_reason::normal());
  });
}

// -------------------------------------------------------------- calling self

namespace {

struct call_myself {};
struct try_call_myself {};
struct stop_myself {};

// What a server saw when it called itself.
struct self_call {
  std::string reason;
  bool sent_anything = false;
  std::chrono::nanoseconds waited{};
};

class selfish {
public:
  int handle_call(get) { return 1; }

  otter::task<self_call> handle_call(call_myself) {
    self_call seen;
    const auto before = otter::monotonic_time();
    try {
      co_await gs::call(me(), get{});
    } catch (const otter::call_error& e) {
      seen.reason = e.reason().to_string();
    }
    seen.waited = otter::monotonic_time() - before;
    seen.sent_anything = co_await anything_queued();
    co_return seen;
  }

  otter::task<self_call> handle_call(try_call_myself) {
    self_call seen;
    const auto before = otter::monotonic_time();
    auto r = co_await gs::try_call(me(), get{});
    seen.reason = r ? "answered" : r.error().to_string();
    seen.waited = otter::monotonic_time() - before;
    seen.sent_anything = co_await anything_queued();
    co_return seen;
  }

  otter::task<std::string> handle_call(stop_myself) {
    std::string reason = "stopped";
    try {
      co_await gs::stop(me(), otter::exit_reason::normal(), 100ms);
    } catch (const otter::call_error& e) {
      reason = e.reason().to_string();
    }
    co_return reason;
  }

private:
  static otter::server_ref<selfish> me() { return otter::server_ref<selfish>(otter::self()); }
  static otter::task<bool> anything_queued() {
    co_return co_await otter::receive([](otter::message) { return true; }, otter::after(0ms, [] { return false; }));
  }
};

} // namespace

TEST_CASE("call - a server calling itself fails at once with calling_self", "[gen_server]") {
  run(deterministic(), []() -> otter::process {
    auto server = (co_await gs::start_link<selfish>()).value();
    auto seen = co_await gs::call(server, call_myself{});
    CHECK(seen.reason == "calling_self");
    CHECK(seen.waited == 0ns);
    CHECK_FALSE(seen.sent_anything);
  });
}

TEST_CASE("try_call - a server calling itself gets calling_self at once", "[gen_server]") {
  run(deterministic(), []() -> otter::process {
    auto server = (co_await gs::start_link<selfish>()).value();
    auto seen = co_await gs::call(server, try_call_myself{});
    CHECK(seen.reason == "calling_self");
    CHECK(seen.waited == 0ns);
    CHECK_FALSE(seen.sent_anything);
  });
}

TEST_CASE("stop - a server stopping itself with stop fails at once with calling_self", "[gen_server]") {
  run(deterministic(), []() -> otter::process {
    auto server = (co_await gs::start_link<selfish>()).value();
    auto reason = co_await gs::call(server, stop_myself{});
    CHECK(reason == "calling_self");
    auto still = co_await gs::call(server, get{}); // and it is still running
    CHECK(still == 1);
  });
}
