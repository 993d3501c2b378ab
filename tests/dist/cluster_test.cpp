// Two otter nodes in one OS process, connected through otter's own epmd:
// connecting, ping, sends by pid and by name, links, monitors and nodedown.

#include <otter/dist/node.hpp>

#include <catch2/catch.hpp>

#include <future>
#include <string>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <otter/errors.hpp>
#include <otter/link.hpp>
#include <otter/monitor.hpp>
#include <otter/receive.hpp>
#include <otter/registry.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/timer.hpp>

#include "../support/await.hpp"
#include "../support/log_capture.hpp"
#include "../support/otter_test.hpp"

using namespace otter_test;
using otter::term;

namespace {

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

otter::node_options named(std::string name, std::uint16_t epmd_port, std::string cookie = "otter-test-cookie") {
  otter::node_options o;
  o.schedulers = 2;
  o.distribution.name = std::move(name);
  o.distribution.cookie = std::move(cookie);
  o.distribution.epmd_port = epmd_port;
  o.distribution.ticktime = std::chrono::seconds(4);
  return o;
}

// Node b's service, registered as "svc":
//   {echo, Pid, Msg}           → Msg to Pid
//   {spawn, Pid, ReasonAtom}   → a process that exits with Reason on `go`; {spawned, NewPid} to Pid
//   stop                       → b's first process exits (b stops)
otter::process exit_on_go(term reason) {
  co_await otter::receive([](term t) { return t.is_atom("go"); });
  otter::exit(otter::exit_reason::custom(std::string(reason.atom_name())));
}

// Traps exits, counts the {n, I} messages that arrive in order before an EXIT
// signal, then tells `report` {collected, Count}; Count is -1 if one came out
// of order or after the EXIT.
otter::process collector(otter::pid report) {
  otter::trap_exit(true);
  long count = 0;
  for (int i = 0; i < 100000; ++i) {
    const long got = co_await otter::receive(
        [](otter::exit_message) { return -1L; },
        [](term t) { return t.is_tuple(2) && t[0].is_atom("n") ? static_cast<long>(*t[1].to_int64()) : -2L; },
        otter::after(patience, [] { return -3L; }));
    if (got == -1) break;
    count = got == count + 1 ? got : -100000000;
  }
  otter::send(report, term::tuple({term::atom("collected"), term(count)}));
}

otter::process service(std::promise<void>* ready) {
  otter::register_name("svc", otter::self());
  ready->set_value();
  for (int i = 0; i < 10000; ++i) {
    term t = co_await otter::receive([](term m) { return m; }, otter::after(patience * 3, [] { return term::atom("stop"); }));
    if (t.is_atom("stop")) co_return;
    if (t.is_tuple(3) && t[0].is_atom("echo")) {
      otter::send(t[1].as_pid(), t[2]);
    } else if (t.is_tuple(2) && t[0].is_atom("collect")) {
      const otter::pid c = otter::spawn(collector, t[1].as_pid());
      otter::send(t[1].as_pid(), term::tuple({term::atom("collector"), term(c)}));
    } else if (t.is_tuple(3) && t[0].is_atom("spawn")) {
      const otter::pid child = otter::spawn(exit_on_go, t[2]);
      otter::send(t[1].as_pid(), term::tuple({term::atom("spawned"), term(child)}));
    }
  }
}

/// Node b on its own thread, serving epmd on a private port, until told to stop.
struct peer_node {
  std::uint16_t epmd_port = free_port();
  std::promise<void> ready;
  std::thread thread;
  int rc = -1;

  peer_node() {
    auto started = ready.get_future();
    thread = std::thread([this] {
      otter::node_options o = named("b@localhost", epmd_port);
      o.distribution.epmd = otter::dist::epmd_mode::serve;
      otter::node b(std::move(o));
      rc = b.run(service, &ready);
    });
    started.wait();
  }
  ~peer_node() {
    if (thread.joinable()) thread.join();
  }
};

/// Stops b: its service exits, and with it the node. Waits for the service's
/// DOWN, so that the stop has crossed before this node's run ends.
otter::task<> stop_b() {
  const otter::dist::remote_name svc{"svc", "b@localhost"};
  const otter::ref m = otter::monitor(svc);
  otter::send(svc, term::atom("stop"));
  auto down = co_await down_of(m);
  CHECK(down);
}

template <class F>
void on_a(peer_node& b, F body, otter::node_options o = {}) {
  if (o.distribution.name.empty()) o = named("a@localhost", b.epmd_port);
  o.distribution.epmd = otter::dist::epmd_mode::use;
  run(std::move(o), body);
}

} // namespace

TEST_CASE("dist - a named node knows its name and gets a creation from epmd", "[dist]") {
  peer_node b;
  on_a(b, []() -> otter::process {
    CHECK(otter::dist::alive());
    CHECK(otter::dist::this_node() == "a@localhost");
    CHECK(otter::dist::creation() != 0);
    co_await stop_b();
    co_return;
  });
}

TEST_CASE("dist - ping answers true for a running node", "[dist]") {
  peer_node b;
  on_a(b, []() -> otter::process {
    const bool pong = co_await otter::dist::ping("b@localhost");
    CHECK(pong);
    co_await stop_b();
  });
}

TEST_CASE("dist - ping answers false for a node that is not there", "[dist]") {
  peer_node b;
  on_a(b, []() -> otter::process {
    const bool pong = co_await otter::dist::ping("nobody@localhost", std::chrono::seconds(5));
    CHECK_FALSE(pong);
    co_await stop_b();
  });
}

TEST_CASE("dist - nodes lists a node once connected", "[dist]") {
  peer_node b;
  on_a(b, []() -> otter::process {
    CHECK(otter::dist::nodes().empty());
    const bool up = co_await otter::dist::connect("b@localhost");
    REQUIRE(up);
    CHECK(otter::dist::nodes() == std::vector<std::string>{"b@localhost"});
    co_await stop_b();
  });
}

TEST_CASE("dist - a message to a name on another node arrives, and a pid in it comes back unchanged", "[dist]") {
  peer_node b;
  on_a(b, []() -> otter::process {
    const otter::pid me = otter::self();
    otter::send(otter::dist::remote_name{"svc", "b@localhost"},
                term::tuple({term::atom("echo"), term(me), term::tuple({term::atom("hello"), term(me)})}));
    auto back = co_await otter::receive([](term t) { return std::optional<term>(t); },
                                        otter::after(patience, [] { return std::optional<term>(); }));
    REQUIRE(back);
    CHECK(*back == term::tuple({term::atom("hello"), term(me)}));
    co_await stop_b();
  });
}

TEST_CASE("dist - a message with a codec is received as its C++ type", "[dist]") {
  peer_node b;
  on_a(b, []() -> otter::process {
    otter::send(otter::dist::remote_name{"svc", "b@localhost"},
                term::tuple({term::atom("echo"), term(otter::self()), term(42)}));
    const int n = co_await otter::receive([](int v) { return v; }, otter::after(patience, [] { return -1; }));
    CHECK(n == 42);
    co_await stop_b();
  });
}

namespace {
otter::task<otter::pid> spawn_on_b(const char* reason) {
  otter::send(otter::dist::remote_name{"svc", "b@localhost"},
              term::tuple({term::atom("spawn"), term(otter::self()), term::atom(reason)}));
  co_return co_await otter::receive(
      otter::when([](const term& t) { return t.is_tuple(2) && t[0].is_atom("spawned"); },
                  [](term t) { return t[1].as_pid(); }),
      otter::after(patience, [] { return otter::pid{}; }));
}
} // namespace

TEST_CASE("dist - a pid of another node is remote and prints with its node's index", "[dist]") {
  peer_node b;
  on_a(b, []() -> otter::process {
    const otter::pid child = co_await spawn_on_b("normal");
    REQUIRE(child);
    CHECK(child.is_remote());
    CHECK(otter::dist::node_of(child) == "b@localhost");
    CHECK(otter::to_string(child).rfind("<", 0) == 0);
    otter::send(child, term::atom("go"));
    co_await stop_b();
  });
}

TEST_CASE("dist - a monitor of a remote process gets its exit reason", "[dist]") {
  peer_node b;
  on_a(b, []() -> otter::process {
    const otter::pid child = co_await spawn_on_b("boom");
    REQUIRE(child);
    const otter::ref m = otter::monitor(child);
    otter::send(child, term::atom("go"));
    auto down = co_await down_of(m);
    REQUIRE(down);
    CHECK(down->process == child);
    CHECK(down->reason == otter::exit_reason::custom("boom"));
    co_await stop_b();
  });
}

TEST_CASE("dist - a link to a remote process carries its exit reason", "[dist]") {
  peer_node b;
  on_a(b, []() -> otter::process {
    const otter::pid child = co_await spawn_on_b("crashed");
    REQUIRE(child);
    otter::trap_exit(true);
    otter::link(child);
    // The link is set up before `go` arrives: both travel the same connection, in order.
    otter::send(child, term::atom("go"));
    auto exit = co_await exit_from(child);
    REQUIRE(exit);
    CHECK(exit->reason == otter::exit_reason::custom("crashed"));
    co_await stop_b();
  });
}

TEST_CASE("dist - messages and an exit signal from one process arrive at a remote process in the order sent", "[dist]") {
  peer_node b;
  on_a(b, []() -> otter::process {
    otter::send(otter::dist::remote_name{"svc", "b@localhost"}, term::tuple({term::atom("collect"), term(otter::self())}));
    const otter::pid c = co_await otter::receive(
        otter::when([](const term& t) { return t.is_tuple(2) && t[0].is_atom("collector"); },
                    [](term t) { return t[1].as_pid(); }),
        otter::after(patience, [] { return otter::pid{}; }));
    REQUIRE(c);
    constexpr long count = 3000;
    for (long i = 1; i <= count; ++i) {
      otter::send(c, term::tuple({term::atom("n"), term(i)}));
      if (i % 500 == 0) co_await otter::yield(); // let the connection write some: frames and signals interleave
    }
    otter::exit(c, otter::exit_reason::custom("last"));
    const long got = co_await otter::receive(
        otter::when([](const term& t) { return t.is_tuple(2) && t[0].is_atom("collected"); },
                    [](term t) { return static_cast<long>(*t[1].to_int64()); }),
        otter::after(patience, [] { return -5L; }));
    CHECK(got == count);
    co_await stop_b();
  });
}

TEST_CASE("dist - a monitor of a remote pid that does not exist gets noproc", "[dist]") {
  peer_node b;
  on_a(b, []() -> otter::process {
    const otter::pid child = co_await spawn_on_b("normal");
    REQUIRE(child);
    const otter::ref first = otter::monitor(child);
    otter::send(child, term::atom("go"));
    auto gone = co_await down_of(first);
    REQUIRE(gone);
    const otter::ref second = otter::monitor(child);
    auto down = co_await down_of(second);
    REQUIRE(down);
    CHECK(down->reason == otter::exit_reason::noproc());
    co_await stop_b();
  });
}

TEST_CASE("dist - when the other node stops, links get noconnection and monitor_node a nodedown", "[dist]") {
  peer_node b;
  on_a(b, []() -> otter::process {
    const otter::pid child = co_await spawn_on_b("never");
    REQUIRE(child);
    otter::trap_exit(true);
    otter::link(child);
    otter::dist::monitor_node("b@localhost");
    co_await stop_b();
    auto exit = co_await exit_from(child);
    REQUIRE(exit);
    CHECK(exit->reason == otter::exit_reason::noconnection());
    auto down = co_await otter::receive([](otter::dist::nodedown d) { return std::optional<std::string>(d.node); },
                                        otter::after(patience, [] { return std::optional<std::string>(); }));
    REQUIRE(down);
    CHECK(*down == "b@localhost");
  });
}

TEST_CASE("dist - a node with the wrong cookie is refused", "[dist]") {
  peer_node b;
  log_capture log;
  otter::node_options o = named("a@localhost", b.epmd_port, "not-the-cookie");
  o.log.sink = log.sink();
  on_a(b, []() -> otter::process {
    const bool pong = co_await otter::dist::ping("b@localhost", std::chrono::seconds(5));
    CHECK_FALSE(pong);
    CHECK(otter::dist::nodes().empty());
    // b is unreachable with this cookie: stop it through a node that has the right one.
    co_return;
  }, o);
  bool logged = false;
  for (const auto& r : *log.records)
    if (const auto* n = std::get_if<otter::node_report>(&r)) logged |= n->what == otter::node_report::event::failed;
  CHECK(logged);
  on_a(b, []() -> otter::process {
    co_await stop_b();
    co_return;
  });
}

namespace {
struct no_codec {
  int x;
};
} // namespace

TEST_CASE("dist - sending a type without a term codec to a remote pid throws badarg", "[dist]") {
  peer_node b;
  on_a(b, []() -> otter::process {
    const otter::pid child = co_await spawn_on_b("normal");
    REQUIRE(child);
    bool threw = false;
    try {
      otter::send(child, no_codec{1});
    } catch (const otter::badarg&) {
      threw = true;
    }
    CHECK(threw);
    otter::send(child, term::atom("go"));
    co_await stop_b();
  });
}
