#include <otter/gen_server.hpp>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include <otter/link.hpp>
#include <otter/monitor.hpp>
#include <otter/node.hpp>
#include <otter/supervisor.hpp>
#include <otter/timer.hpp>

#include "support/await.hpp"
#include "support/otter_test.hpp"

// A gen_server killed while a coroutine handler is suspended must free what
// that handler was serving: the request, the message, the handler's frame.

using namespace otter_test;
namespace gs = otter::gen_server;

namespace {

// Counts its live instances, so a test can see a request payload freed in
// any build (under ASan a leaked request is also a leak report at exit).
struct tracked {
  static inline std::atomic<int> alive{0};
  tracked() noexcept { alive.fetch_add(1); }
  tracked(const tracked&) noexcept { alive.fetch_add(1); }
  tracked(tracked&&) noexcept { alive.fetch_add(1); }
  tracked& operator=(const tracked&) = default;
  tracked& operator=(tracked&&) = default;
  ~tracked() { alive.fetch_sub(1); }
};

// Requests with constructors (docs/gcc12.md): the handlers below take them by
// const reference, so the payload stays in the request while they wait.
struct hold_call {
  hold_call() noexcept {}
  tracked t;
};
struct hold_deferred {
  using reply_type = int;
  hold_deferred() noexcept {}
  tracked t;
};
struct hold_cast {
  hold_cast() noexcept {}
  tracked t;
};
struct hold_info {
  hold_info() noexcept {}
  tracked t;
};
struct quick {};
struct wait_then_stop {};
struct go_on {};

/// What a handler sends its observer once it is suspended.
struct entered {
  otter::pid server;
};

// Every handler tells the observer it has begun, then waits (bounded) for
// something the test never sends: it is killed there.
class holder {
public:
  void init(otter::pid observer) { observer_ = observer; }

  otter::task<int> handle_call(const hold_call&) {
    co_await wait();
    co_return 1;
  }
  otter::task<> handle_call(const hold_deferred&, gs::reply_to<int> from) {
    co_await wait();
    from.reply(2);
  }
  int handle_call(quick) { return 3; }
  otter::task<int> handle_call(wait_then_stop) {
    otter::send(observer_, entered{otter::self()});
    co_await otter::receive<go_on>();
    gs::stop_self(otter::exit_reason::shutdown("after waiting"));
    co_return 4;
  }
  otter::task<> handle_cast(const hold_cast&) { co_await wait(); }
  otter::task<> handle_info(const hold_info&) { co_await wait(); }

private:
  otter::task<> wait() {
    otter::send(observer_, entered{otter::self()});
    co_await otter::sleep(patience);
  }

  otter::pid observer_;
};

/// Calls `server` with `Req` and exits when the call fails (the server is killed).
template <class Req>
otter::process caller(otter::server_ref<holder> server) {
  Req req;
  auto r = co_await gs::try_call(server, std::move(req), gs::infinity);
  (void)r;
}

/// Waits for a handler of the server to be suspended; its pid, or null after patience.
otter::task<otter::pid> suspended_server() {
  co_return co_await otter::receive([](entered e) { return e.server; },
                                    otter::after(patience, [] { return otter::pid(); }));
}

/// Kills `server` once its handler is suspended, then waits for it to be gone.
otter::task<bool> kill_when_suspended(otter::server_ref<holder> server) {
  const otter::pid in_handler = co_await suspended_server();
  if (in_handler != server.pid()) co_return false;
  const otter::ref watch = otter::monitor(server.pid());
  otter::exit(server.pid(), otter::exit_reason::kill());
  auto d = co_await down_of(watch);
  co_return d && d->reason == otter::exit_reason::killed();
}

} // namespace

TEST_CASE("gen_server - killing a server inside a coroutine handle_call frees the request", "[gen_server][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    const int before = tracked::alive.load();
    gs::start_options o;
    o.spawn = where;
    // One server per kind of coroutine handle_call: returning its reply, and
    // replying through reply_to.
    auto direct = (co_await gs::start<holder>(o, otter::self())).value();
    const otter::ref c1 = otter::monitor(otter::spawn(caller<hold_call>, direct));
    const bool killed_direct = co_await kill_when_suspended(direct);
    CHECK(killed_direct);
    auto d1 = co_await down_of(c1);
    CHECK(d1.has_value());
    auto deferred = (co_await gs::start<holder>(o, otter::self())).value();
    const otter::ref c2 = otter::monitor(otter::spawn(caller<hold_deferred>, deferred));
    const bool killed_deferred = co_await kill_when_suspended(deferred);
    CHECK(killed_deferred);
    auto d2 = co_await down_of(c2);
    CHECK(d2.has_value());
    CHECK(tracked::alive.load() == before);
  });
}

TEST_CASE("gen_server - killing a server inside a coroutine handle_cast frees the request", "[gen_server][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    const int before = tracked::alive.load();
    gs::start_options o;
    o.spawn = where;
    auto server = (co_await gs::start<holder>(o, otter::self())).value();
    gs::cast(server, hold_cast());
    const bool killed = co_await kill_when_suspended(server);
    CHECK(killed);
    CHECK(tracked::alive.load() == before);
  });
}

TEST_CASE("gen_server - killing a server inside a coroutine handle_info frees the message", "[gen_server][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    const int before = tracked::alive.load();
    gs::start_options o;
    o.spawn = where;
    auto server = (co_await gs::start<holder>(o, otter::self())).value();
    otter::send(server.pid(), hold_info());
    const bool killed = co_await kill_when_suspended(server);
    CHECK(killed);
    CHECK(tracked::alive.load() == before);
  });
}

TEST_CASE("stop_self - a coroutine handler stops its server after waiting while other servers ran", "[gen_server]") {
  run(deterministic(), []() -> otter::process {
    gs::start_options o;
    auto waiting = (co_await gs::start<holder>(o, otter::self())).value();
    auto other = (co_await gs::start<holder>(o, otter::self())).value();
    const otter::ref w = otter::monitor(waiting.pid());
    otter::spawn(caller<wait_then_stop>, waiting);
    const otter::pid in_handler = co_await suspended_server();
    REQUIRE(in_handler == waiting.pid());
    auto three = co_await gs::call(other, quick{}); // another server's handler runs meanwhile
    CHECK(three == 3);
    otter::send(waiting.pid(), go_on{});
    auto d = co_await down_of(w);
    REQUIRE(d.has_value());
    CHECK(d->reason == otter::exit_reason::shutdown("after waiting"));
  });
}

TEST_CASE("stop_self - outside a handler it throws, also after a server was killed inside one", "[gen_server]") {
  run(deterministic(), []() -> otter::process {
    gs::start_options o;
    auto server = (co_await gs::start<holder>(o, otter::self())).value();
    gs::cast(server, hold_cast());
    const bool killed = co_await kill_when_suspended(server);
    CHECK(killed);
    CHECK_THROWS_AS(gs::stop_self(), std::logic_error);
  });
}

// ------------------------------------------------------------ supervisors

namespace {

// A child whose init waits: the supervisor's start_child handler waits with it.
class slow_child {
public:
  otter::task<> init(otter::pid observer) {
    otter::send(observer, entered{otter::self()});
    co_await otter::sleep(patience);
  }
  int handle_call(quick) { return 0; }
};

otter::process start_slow_child(otter::pid sup, otter::pid observer) {
  auto r = co_await otter::supervisor::start_child(sup, otter::child_spec::server<slow_child>("slow", observer));
  (void)r;
}

} // namespace

TEST_CASE("supervisor - killing a supervisor inside its start_child handler frees the request", "[supervisor]") {
  // The request is freed or not with the supervisor's frame: only ASan's leak
  // check at exit sees a request left behind.
  run(deterministic(), []() -> otter::process {
    otter::supervisor_flags flags;
    std::vector<otter::child_spec> none;
    auto sup = co_await otter::supervisor::start_link(flags, std::move(none));
    REQUIRE(sup);
    otter::unlink(sup.value());
    const otter::ref s = otter::monitor(sup.value());
    const otter::ref c = otter::monitor(otter::spawn(start_slow_child, sup.value(), otter::self()));
    const otter::pid child = co_await suspended_server();
    REQUIRE(child);
    const otter::ref ch = otter::monitor(child);
    otter::exit(sup.value(), otter::exit_reason::kill());
    auto sd = co_await down_of(s);
    REQUIRE(sd.has_value());
    CHECK(sd->reason == otter::exit_reason::killed());
    auto cd = co_await down_of(ch); // the child goes with it, through the link
    CHECK(cd.has_value());
    auto caller_down = co_await down_of(c);
    CHECK(caller_down.has_value());
  });
}
