#include <otter/net/server.hpp>

#include <cerrno>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <otter/link.hpp>
#include <otter/monitor.hpp>
#include <otter/node.hpp>
#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/registry.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/timer.hpp>

#include "../support/await.hpp"
#include "../support/otter_test.hpp"

using namespace otter_test;
namespace net = otter::net;
namespace sup = otter::supervisor;

namespace {

// What connection handlers tell the test process (registered as "observer").
struct serving {
  otter::pid pid;
  int core;
};
struct request_in_hand {
  otter::pid pid;
};
struct go {};

// Echoes; reports its core first.
otter::process echo(net::tcp_socket s) {
  otter::send("observer", serving{otter::self(), otter::this_scheduler()});
  for (;;) {
    auto got = co_await s.recv(patience);
    if (!got || got->empty()) co_return;
    if (!co_await s.send(*got)) co_return;
  }
}

// Takes one request, says so, and answers it only when told to go — even if
// the server is stopping meanwhile (it traps exits).
otter::process slow_worker(net::tcp_socket s) {
  otter::trap_exit(true);
  auto got = co_await s.recv(patience);
  if (!got || got->empty()) co_return;
  otter::send("observer", request_in_hand{otter::self()});
  co_await otter::receive<go>();
  co_await s.send("done: " + *got);
}

// Traps exits and never leaves on its own.
otter::process stubborn([[maybe_unused]] net::tcp_socket s) {
  otter::trap_exit(true);
  otter::send("observer", serving{otter::self(), otter::this_scheduler()});
  for (;;) co_await otter::receive<go>();
}

otter::task<std::string> read_exactly(net::tcp_socket& s, std::size_t n) {
  std::string got;
  while (got.size() < n) {
    auto part = co_await s.recv(patience);
    if (!part || part->empty()) break;
    got += *part;
  }
  co_return got;
}

otter::task<std::optional<serving>> next_serving() {
  co_return co_await otter::receive(otter::when([](const serving&) { return true; },
                                                [](serving s) { return std::optional<serving>(s); }),
                                    otter::after(patience, [] { return std::optional<serving>(); }));
}

// The child with `id` of supervisor `s`.
otter::task<otter::pid> child_of(otter::pid s, std::string id) {
  for (const auto& c : co_await sup::which_children(s))
    if (c.id == id) co_return c.pid;
  co_return otter::pid();
}

net::server_options drained_within(std::chrono::milliseconds drain) {
  net::server_options o;
  o.drain = drain;
  return o;
}

net::server_options listening_at(net::address at) {
  net::server_options o;
  o.at = at;
  return o;
}

bool says_address_in_use(const otter::exit_reason& r) {
  const std::string text = r.to_string();
  const std::string tail = ": address already in use";
  return text.size() > tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// A listener of another program: a forked child binds and listens on `at`
// (with SO_REUSEPORT or without), tells its port through a pipe, and waits.
// It is killed and reaped when this goes out of scope, also when a test fails.
class foreign_listener {
public:
  foreign_listener(net::address at, bool reuse_port) {
    int ready[2];
    if (::pipe(ready) != 0) return;
    const pid_t parent = ::getpid();
    child_ = ::fork();
    if (child_ == 0) {
      ::close(ready[0]);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlives the test binary
      if (::getppid() != parent) ::_exit(1);
      hold(at, reuse_port, ready[1]);
    }
    ::close(ready[1]);
    std::uint16_t port = 0;
    if (child_ > 0 && ::read(ready[0], &port, sizeof port) == sizeof port && port != 0) at_ = at.with_port(port);
    ::close(ready[0]);
  }
  foreign_listener(const foreign_listener&) = delete;
  foreign_listener& operator=(const foreign_listener&) = delete;
  ~foreign_listener() {
    if (child_ <= 0) return;
    ::kill(child_, SIGKILL);
    while (::waitpid(child_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  /// Where the child listens (port 0 if it could not).
  const net::address& at() const noexcept { return at_; }

private:
  // In the child, after fork: system calls only.
  [[noreturn]] static void hold(const net::address& at, bool reuse_port, int ready) {
    const int fd = ::socket(at.family(), SOCK_STREAM, 0);
    const int on = 1;
    std::uint16_t port = 0;
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (fd >= 0 && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
        (!reuse_port || ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) == 0) &&
        ::bind(fd, at.data(), at.size()) == 0 && ::listen(fd, 16) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) == 0)
      port = net::address::from_sockaddr(reinterpret_cast<sockaddr*>(&bound), len).port();
    if (::write(ready, &port, sizeof port) != sizeof port || port == 0) ::_exit(1);
    for (;;) ::pause();
  }

  pid_t child_ = -1;
  net::address at_;
};

} // namespace

TEST_CASE("server - connections are accepted and served on every core", "[net][server][cross-core]") {
  run(two_cores(), []() -> otter::process {
    otter::register_name("observer", otter::self());
    auto server = co_await net::start_server({}, echo);
    REQUIRE(server);
    std::set<int> cores;
    std::vector<net::tcp_socket> clients;
    // The kernel spreads connections over the two listeners by their ports:
    // 64 connections all landing on one core would be a 1-in-2^63 chance.
    for (int i = 0; i < 64; ++i) {
      auto c = co_await net::tcp_socket::connect(server->at, patience);
      REQUIRE(c);
      auto sent = co_await c->send("ping");
      REQUIRE(sent);
      auto back = co_await read_exactly(*c, 4);
      CHECK(back == "ping");
      auto s = co_await next_serving();
      REQUIRE(s);
      cores.insert(s->core);
      clients.push_back(std::move(c.value()));
    }
    CHECK(cores == std::set<int>{0, 1});
  });
}

TEST_CASE("server - port 0 picks one free port that every core listens on", "[net][server]") {
  run(two_cores(), []() -> otter::process {
    net::address seen;
    net::server_options o;
    o.on_listening = [&seen](const net::address& a) { seen = a; };
    auto server = co_await net::start_server(std::move(o), echo);
    REQUIRE(server);
    CHECK(server->at.port() != 0);
    CHECK(seen == server->at);
  });
}

TEST_CASE("server - a port another process serves with SO_REUSEPORT fails the start with address in use",
          "[net][server]") {
  const foreign_listener other(net::address::loopback_v4(0), true);
  REQUIRE(other.at().port() != 0);
  run(two_cores(), [](net::address taken) -> otter::process {
    auto server = co_await net::start_server(listening_at(taken), echo);
    REQUIRE_FALSE(server);
    CHECK(says_address_in_use(server.error()));
  }, other.at());
}

TEST_CASE("server - a port another process serves without SO_REUSEPORT fails the start with address in use",
          "[net][server]") {
  const foreign_listener other(net::address::loopback_v4(0), false);
  REQUIRE(other.at().port() != 0);
  run(two_cores(), [](net::address taken) -> otter::process {
    auto server = co_await net::start_server(listening_at(taken), echo);
    REQUIRE_FALSE(server);
    CHECK(says_address_in_use(server.error()));
  }, other.at());
}

TEST_CASE("server - a second server of the node on the first one's port fails with address in use",
          "[net][server][cross-core]") {
  run(two_cores(), []() -> otter::process {
    otter::register_name("observer", otter::self());
    auto first = co_await net::start_server({}, echo);
    REQUIRE(first);
    auto second = co_await net::start_server(listening_at(first->at), echo);
    REQUIRE_FALSE(second);
    CHECK(says_address_in_use(second.error()));
    // The first one still serves.
    auto c = co_await net::tcp_socket::connect(first->at, patience);
    REQUIRE(c);
    auto sent = co_await c->send("ping");
    REQUIRE(sent);
    auto back = co_await read_exactly(*c, 4);
    CHECK(back == "ping");
  });
}

TEST_CASE("server - an IPv4 port another process serves is taken for an IPv6 server on its mapped address",
          "[net][server]") {
  const foreign_listener other(net::address::loopback_v4(0), true);
  REQUIRE(other.at().port() != 0);
  const auto mapped = net::address::parse("::ffff:127.0.0.1", other.at().port());
  REQUIRE(mapped);
  run(one_core(), [](net::address taken) -> otter::process {
    auto server = co_await net::start_server(listening_at(taken), echo);
    REQUIRE_FALSE(server);
    CHECK(says_address_in_use(server.error()));
  }, *mapped);
}

TEST_CASE("server - a failed start names the address and says address already in use", "[net][server]") {
  const foreign_listener other(net::address::loopback_v4(0), true);
  REQUIRE(other.at().port() != 0);
  run(one_core(), [](net::address taken) -> otter::process {
    auto server = co_await net::start_server(listening_at(taken), echo);
    REQUIRE_FALSE(server);
    CHECK(server.error().to_string() == "start_server " + taken.to_string() + ": address already in use");
  }, other.at());
}

TEST_CASE("server - a stop refuses new connections and lets a request in hand finish", "[net][server]") {
  run(one_core(), []() -> otter::process {
    otter::trap_exit(true);
    otter::register_name("observer", otter::self());
    auto server = co_await net::start_server(drained_within(std::chrono::milliseconds(60'000)), slow_worker);
    REQUIRE(server);
    auto client = co_await net::tcp_socket::connect(server->at, patience);
    REQUIRE(client);
    auto sent = co_await client->send("job");
    REQUIRE(sent);
    const auto worker = co_await otter::receive<request_in_hand>();
    otter::exit(server->supervisor, otter::exit_reason::shutdown());
    // The acceptors stop first: nothing listens any more.
    const otter::ref watch = otter::monitor(worker.pid);
    std::error_code refused;
    for (int i = 0; i < 1000 && !refused; ++i) {
      auto late = co_await net::tcp_socket::connect(server->at, patience);
      if (!late) refused = late.error();
      else co_await otter::sleep(std::chrono::milliseconds(1));
    }
    CHECK(refused == std::errc::connection_refused);
    otter::send(worker.pid, go{});
    auto answer = co_await read_exactly(*client, 9);
    CHECK(answer == "done: job");
    auto d = co_await down_of(watch);
    REQUIRE(d);
    CHECK(d->reason == otter::exit_reason::normal());
    auto e = co_await exit_from(server->supervisor);
    REQUIRE(e);
    CHECK(e->reason == otter::exit_reason::shutdown());
  });
}

// Reports its core, then on the server's stop reports that, and leaves only
// when told to go.
struct told_to_stop {
  otter::pid pid;
};
otter::process lingering(net::tcp_socket s) {
  otter::trap_exit(true);
  otter::send("observer", serving{otter::self(), otter::this_scheduler()});
  co_await otter::receive<otter::exit_message>();
  otter::send("observer", told_to_stop{otter::self()});
  co_await otter::receive<go>();
  s.close();
}

TEST_CASE("server - a stop reaches the connections of every core at once", "[net][server][cross-core]") {
  run(two_cores(), []() -> otter::process {
    otter::trap_exit(true);
    otter::register_name("observer", otter::self());
    auto server = co_await net::start_server(drained_within(std::chrono::milliseconds(60'000)), lingering);
    REQUIRE(server);
    std::vector<net::tcp_socket> clients;
    std::map<int, otter::pid> by_core;
    std::vector<otter::pid> all;
    for (int i = 0; i < 64 && by_core.size() < 2; ++i) {
      auto c = co_await net::tcp_socket::connect(server->at, patience);
      REQUIRE(c);
      clients.push_back(std::move(c.value()));
      auto s = co_await next_serving();
      REQUIRE(s);
      by_core.emplace(s->core, s->pid);
      all.push_back(s->pid);
    }
    REQUIRE(by_core.size() == 2);
    otter::exit(server->supervisor, otter::exit_reason::shutdown());
    // Every connection hears of the stop while the others still run.
    for (std::size_t i = 0; i < clients.size(); ++i) {
      auto t = co_await otter::receive(otter::when([](const told_to_stop&) { return true; }, [](told_to_stop) { return true; }),
                                       otter::after(patience, [] { return false; }));
      REQUIRE(t);
    }
    for (otter::pid p : all) otter::send(p, go{});
    auto e = co_await exit_from(server->supervisor);
    REQUIRE(e);
    CHECK(e->reason == otter::exit_reason::shutdown());
  });
}

TEST_CASE("server - a connection that does not finish within the drain time is killed", "[net][server]") {
  run(one_core(), []() -> otter::process {
    otter::trap_exit(true);
    otter::register_name("observer", otter::self());
    auto server = co_await net::start_server(drained_within(std::chrono::milliseconds(50)), stubborn);
    REQUIRE(server);
    auto client = co_await net::tcp_socket::connect(server->at, patience);
    REQUIRE(client);
    auto s = co_await next_serving();
    REQUIRE(s);
    const otter::ref watch = otter::monitor(s->pid);
    otter::exit(server->supervisor, otter::exit_reason::shutdown());
    auto d = co_await down_of(watch);
    REQUIRE(d);
    CHECK(d->reason == otter::exit_reason::killed());
    auto closed = co_await client->recv(patience); // its socket closed with it
    REQUIRE(closed);
    CHECK(closed->empty());
  });
}

TEST_CASE("server - a crashed connection leaves the others and the server running", "[net][server]") {
  run(one_core(), []() -> otter::process {
    otter::trap_exit(true);
    otter::register_name("observer", otter::self());
    auto server = co_await net::start_server({}, echo);
    REQUIRE(server);
    auto a = co_await net::tcp_socket::connect(server->at, patience);
    auto b = co_await net::tcp_socket::connect(server->at, patience);
    REQUIRE(a);
    REQUIRE(b);
    auto sa = co_await next_serving();
    auto sb = co_await next_serving();
    REQUIRE(sa);
    REQUIRE(sb);
    otter::exit(sa->pid, otter::exit_reason::custom("crash"));
    auto sent = co_await b->send("still here");
    REQUIRE(sent);
    auto back = co_await read_exactly(*b, 10);
    CHECK(back == "still here");
    auto none = co_await otter::receive(otter::when([](const otter::exit_message&) { return true; },
                                                    [](otter::exit_message) { return false; }),
                                        otter::after(std::chrono::milliseconds(0), [] { return true; }));
    CHECK(none); // the server did not exit
  });
}

TEST_CASE("server - a crashed acceptor is restarted and listens again on the same port", "[net][server]") {
  run(one_core(), []() -> otter::process {
    otter::register_name("observer", otter::self());
    auto server = co_await net::start_server({}, echo);
    REQUIRE(server);
    const otter::pid acceptors = co_await child_of(server->supervisor, "acceptors");
    const otter::pid first = co_await child_of(acceptors, "acceptor on core 0");
    REQUIRE(first);
    const otter::ref watch = otter::monitor(first);
    otter::exit(first, otter::exit_reason::kill());
    auto d = co_await down_of(watch);
    REQUIRE(d);
    otter::pid second;
    for (int i = 0; i < 1000 && (!second || second == first); ++i) {
      second = co_await child_of(acceptors, "acceptor on core 0");
      if (!second || second == first) co_await otter::sleep(std::chrono::milliseconds(1));
    }
    CHECK(second);
    CHECK(second != first);
    auto c = co_await net::tcp_socket::connect(server->at, patience);
    REQUIRE(c);
    auto sent = co_await c->send("again");
    REQUIRE(sent);
    auto back = co_await read_exactly(*c, 5);
    CHECK(back == "again");
  });
}

TEST_CASE("server - a node stop request stops the server gracefully and run returns 0", "[net][server]") {
  otter::node node(one_core());
  const int rc = node.run([](otter::node* node) -> otter::process {
    otter::trap_exit(true);
    otter::register_name("observer", otter::self());
    auto server = co_await net::start_server({}, echo);
    if (!server) co_return;
    auto client = co_await net::tcp_socket::connect(server->at, patience);
    if (!client) co_return;
    node->request_stop();
    co_await otter::receive(otter::when([](const otter::exit_message& e) { return !e.from; }, [](otter::exit_message) {}));
    otter::exit(server->supervisor, otter::exit_reason::shutdown());
    auto e = co_await exit_from(server->supervisor);
    if (!e || e->reason != otter::exit_reason::shutdown()) otter::exit(otter::exit_reason::custom("unclean stop"));
    auto closed = co_await client->recv(patience);
    if (!closed || !closed->empty()) otter::exit(otter::exit_reason::custom("connection left open"));
  }, &node);
  INFO(node.last_exit_reason().to_string());
  CHECK(rc == 0);
}
