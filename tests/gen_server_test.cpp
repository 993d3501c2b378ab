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
