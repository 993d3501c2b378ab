#include <otter/net/tcp.hpp>

#include <set>
#include <string>
#include <vector>

#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <otter/link.hpp>
#include <otter/monitor.hpp>
#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/timer.hpp>

#include "../support/await.hpp"
#include "../support/otter_test.hpp"

using namespace otter_test;
namespace net = otter::net;

namespace {

// Echoes everything back until the peer closes.
otter::process echo_handler(net::tcp_socket s) {
  char buf[4096];
  for (;;) {
    auto n = co_await s.recv(std::span<char>(buf));
    if (!n || *n == 0) co_return;
    if (!co_await s.send(std::string_view(buf, *n))) co_return;
  }
}

otter::process echo_server(net::tcp_listener l, otter::spawn_options where) {
  for (;;) {
    auto c = co_await l.accept();
    if (!c) co_return;
    otter::spawn(where, echo_handler, std::move(c.value()));
  }
}

// A listener on an ephemeral loopback port, served by echo_server.
otter::task<net::address> start_echo(otter::spawn_options where = {}, bool v6 = false) {
  auto l = net::tcp_listener::listen(v6 ? net::address::loopback_v6(0) : net::address::loopback_v4(0)).value();
  net::address at = l.local_address();
  otter::spawn(echo_server, std::move(l), where);
  co_return at;
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

} // namespace

TEST_CASE("tcp - a client and a server exchange data over IPv4 loopback", "[net][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    const net::address at = co_await start_echo(where);
    auto c = co_await net::tcp_socket::connect(at, patience);
    REQUIRE(c);
    for (int i = 0; i < 100; ++i) {
      const std::string msg = "message " + std::to_string(i);
      auto sent = co_await c->send(msg);
      REQUIRE(sent);
      auto back = co_await read_exactly(*c, msg.size());
      CHECK(back == msg);
    }
  });
}

TEST_CASE("tcp - a client and a server exchange data over IPv6 loopback", "[net]") {
  run(one_core(), []() -> otter::process {
    const net::address at = co_await start_echo({}, true);
    CHECK(at.is_v6());
    auto c = co_await net::tcp_socket::connect(at, patience);
    REQUIRE(c);
    co_await c->send("over six");
    auto back = co_await read_exactly(*c, 8);
    CHECK(back == "over six");
  });
}

TEST_CASE("tcp - send delivers a large buffer whole, in order", "[net]") {
  run(one_core(), []() -> otter::process {
    const net::address at = co_await start_echo();
    auto c = co_await net::tcp_socket::connect(at, patience);
    REQUIRE(c);
    std::string big(4 * 1024 * 1024, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
    // The echo writes back while we write: 1 MiB fits in the sockets' buffers.
    auto sent = co_await c->send(std::string_view(big).substr(0, 1 << 20));
    REQUIRE(sent);
    CHECK(*sent == std::size_t{1} << 20);
    auto back = co_await read_exactly(*c, 1 << 20);
    CHECK(back == big.substr(0, 1 << 20));
  });
}

TEST_CASE("tcp - recv returns 0 bytes once the peer has closed", "[net]") {
  run(one_core(), []() -> otter::process {
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0)).value();
    const net::address at = l.local_address();
    otter::spawn([](net::tcp_listener lis) -> otter::process {
      auto c = co_await lis.accept();
      co_await c->send("bye");
      // and closes, going out of scope
    }, std::move(l));
    auto c = co_await net::tcp_socket::connect(at, patience);
    REQUIRE(c);
    auto data = co_await read_exactly(*c, 3);
    CHECK(data == "bye");
    char buf[16];
    auto end = co_await c->recv(std::span<char>(buf), patience);
    REQUIRE(end);
    CHECK(*end == 0);
  });
}

TEST_CASE("tcp - connecting to a port nobody listens on fails with connection_refused", "[net]") {
  run(one_core(), []() -> otter::process {
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0)).value();
    const net::address at = l.local_address();
    l.close(); // now nobody listens there
    auto c = co_await net::tcp_socket::connect(at, patience);
    REQUIRE_FALSE(c);
    CHECK(c.error() == std::errc::connection_refused);
    CHECK_FALSE(c.error().message().empty());
  });
}

TEST_CASE("tcp - a reset by the peer is reported as connection_reset", "[net]") {
  run(one_core(), []() -> otter::process {
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0)).value();
    const net::address at = l.local_address();
    otter::spawn([](net::tcp_listener lis) -> otter::process {
      auto c = co_await lis.accept();
      co_await c->recv(patience); // wait for the client's bytes, then reset
      linger hard{1, 0};          // close with RST instead of FIN
      ::setsockopt(c->native_handle(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    }, std::move(l));
    auto c = co_await net::tcp_socket::connect(at, patience);
    REQUIRE(c);
    co_await c->send("hello");
    auto r = co_await c->recv(patience);
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::connection_reset);
  });
}

TEST_CASE("tcp - recv and accept time out with timed_out", "[net]") {
  run(one_core(), []() -> otter::process {
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0)).value();
    auto none = co_await l.accept(20ms);
    REQUIRE_FALSE(none);
    CHECK(none.error() == std::errc::timed_out);
    auto c = co_await net::tcp_socket::connect(l.local_address(), patience);
    REQUIRE(c);
    auto quiet = co_await c->recv(20ms);
    REQUIRE_FALSE(quiet);
    CHECK(quiet.error() == std::errc::timed_out);
    auto accepted = co_await l.accept(patience); // the listener goes on after a timeout
    CHECK(accepted);
  });
}

TEST_CASE("tcp - send times out when the peer does not read", "[net]") {
  run(one_core(), []() -> otter::process {
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0)).value();
    net::socket_options small;
    small.send_buffer = 4096;
    auto c = co_await net::tcp_socket::connect(l.local_address(), patience, small);
    REQUIRE(c);
    auto peer = co_await l.accept(patience); // accepted, never read
    REQUIRE(peer);
    const std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 64; ++i) {
      auto r = co_await c->send(chunk, 50ms);
      if (!r) {
        CHECK(r.error() == std::errc::timed_out);
        co_return;
      }
    }
    FAIL("64 MiB went into a socket nobody reads");
  });
}

TEST_CASE("tcp - listening on a port in use fails with address_in_use", "[net]") {
  run(one_core(), []() -> otter::process {
    net::listen_options exclusive;
    exclusive.reuse_address = false;
    auto first = net::tcp_listener::listen(net::address::loopback_v4(0), exclusive).value();
    auto second = net::tcp_listener::listen(first.local_address(), exclusive);
    REQUIRE_FALSE(second);
    CHECK(second.error() == std::errc::address_in_use);
    co_return;
  });
}

TEST_CASE("tcp - reuse_port lets a listener per core share a port", "[net][cross-core]") {
  run(two_cores(), []() -> otter::process {
    net::listen_options shared;
    shared.reuse_port = true;
    auto a = net::tcp_listener::listen(net::address::loopback_v4(0), shared).value();
    auto b = net::tcp_listener::listen(a.local_address(), shared);
    REQUIRE(b);
    const net::address at = a.local_address();
    otter::spawn(echo_server, std::move(a), otter::spawn_options{});
    otter::spawn(otter::on_scheduler(1), echo_server, std::move(b.value()), otter::spawn_options{});
    for (int i = 0; i < 20; ++i) {
      auto c = co_await net::tcp_socket::connect(at, patience);
      REQUIRE(c);
      co_await c->send("x");
      auto back = co_await read_exactly(*c, 1);
      CHECK(back == "x");
    }
  });
}

TEST_CASE("tcp - claim_port refuses a port that reuse_port listeners share already", "[net]") {
  run(one_core(), []() -> otter::process {
    net::listen_options shared;
    shared.reuse_port = true;
    auto holder = net::tcp_listener::listen(net::address::loopback_v4(0), shared).value();
    net::listen_options claim = shared;
    claim.claim_port = true;
    auto claimed = net::tcp_listener::listen(holder.local_address(), claim);
    REQUIRE_FALSE(claimed);
    CHECK(claimed.error() == std::errc::address_in_use);
    co_return;
  });
}

// Accepts and tells `observer` which listener took each connection.
struct accepted_by {
  int listener;
};
otter::process tell_accepts(net::tcp_listener l, int which, otter::pid observer) {
  std::vector<net::tcp_socket> kept;
  for (;;) {
    auto c = co_await l.accept();
    if (!c) co_return;
    kept.push_back(std::move(c.value()));
    otter::send(observer, accepted_by{which});
  }
}

TEST_CASE("tcp - reuse_port listeners join a claimed port and share its connections", "[net][cross-core]") {
  run(two_cores(), []() -> otter::process {
    net::listen_options claim;
    claim.reuse_port = true;
    claim.claim_port = true;
    auto first = net::tcp_listener::listen(net::address::loopback_v4(0), claim).value();
    const net::address at = first.local_address();
    net::listen_options join;
    join.reuse_port = true;
    auto second = net::tcp_listener::listen(at, join);
    REQUIRE(second);
    otter::spawn(tell_accepts, std::move(first), 0, otter::self());
    otter::spawn(otter::on_scheduler(1), tell_accepts, std::move(second.value()), 1, otter::self());
    std::set<int> seen;
    std::vector<net::tcp_socket> clients;
    // The kernel spreads connections by their ports: 64 all on one listener
    // would be a 1-in-2^63 chance.
    for (int i = 0; i < 64 && seen.size() < 2; ++i) {
      auto c = co_await net::tcp_socket::connect(at, patience);
      REQUIRE(c);
      clients.push_back(std::move(c.value()));
      const int by = co_await otter::receive(otter::when([](const accepted_by&) { return true; },
                                                         [](accepted_by a) { return a.listener; }),
                                             otter::after(patience, [] { return -1; }));
      REQUIRE(by >= 0);
      seen.insert(by);
    }
    CHECK(seen == std::set<int>{0, 1});
  });
}

TEST_CASE("tcp - socket options are applied", "[net]") {
  run(one_core(), []() -> otter::process {
    const net::address at = co_await start_echo();
    net::socket_options o;
    o.nodelay = true;
    o.keepalive = true;
    o.receive_buffer = 65536;
    auto c = co_await net::tcp_socket::connect(at, patience, o);
    REQUIRE(c);
    int v = 0;
    socklen_t len = sizeof v;
    ::getsockopt(c->native_handle(), IPPROTO_TCP, TCP_NODELAY, &v, &len);
    CHECK(v == 1);
    ::getsockopt(c->native_handle(), SOL_SOCKET, SO_KEEPALIVE, &v, &len);
    CHECK(v == 1);
    ::getsockopt(c->native_handle(), SOL_SOCKET, SO_RCVBUF, &v, &len);
    CHECK(v >= 65536);
  });
}

TEST_CASE("tcp - too many open files: accept reports emfile, and the listener goes on", "[net]") {
  run(one_core(), []() -> otter::process {
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0)).value();
    const net::address at = l.local_address();
    auto first = co_await net::tcp_socket::connect(at, patience); // queued in the backlog
    REQUIRE(first);
    rlimit old{};
    ::getrlimit(RLIMIT_NOFILE, &old);
    // No descriptor left for accept.
    rlimit tight = old;
    tight.rlim_cur = static_cast<rlim_t>(first->native_handle());
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
    auto refused = co_await l.accept(patience);
    ::setrlimit(RLIMIT_NOFILE, &old);
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == std::errc::too_many_files_open);
    auto accepted = co_await l.accept(patience); // descriptors again: the connection is still there
    CHECK(accepted);
  });
}

TEST_CASE("tcp - active once delivers one message, then waits to be asked again", "[net][active]") {
  run(one_core(), []() -> otter::process {
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0)).value();
    auto c = co_await net::tcp_socket::connect(l.local_address(), patience);
    auto server = co_await l.accept(patience);
    REQUIRE(server);
    server->set_active(net::active_mode::once());
    co_await c->send("one");
    auto first = co_await otter::receive<net::tcp_data>(patience);
    REQUIRE(first);
    CHECK(first->socket == server->id());
    CHECK(first->bytes == "one");
    co_await c->send("two");
    auto none = co_await otter::receive<net::tcp_data>(50ms); // passive now: it waits in the socket
    CHECK_FALSE(none);
    server->set_active(net::active_mode::once());
    auto second = co_await otter::receive<net::tcp_data>(patience);
    REQUIRE(second);
    CHECK(second->bytes == "two");
    c->close();
    server->set_active(net::active_mode::once());
    auto closed = co_await otter::receive<net::tcp_closed>(patience);
    REQUIRE(closed);
    CHECK(closed->socket == server->id());
  });
}

TEST_CASE("tcp - an active socket and other messages are received by one process", "[net][active]") {
  run(one_core(), []() -> otter::process {
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0)).value();
    auto c = co_await net::tcp_socket::connect(l.local_address(), patience);
    auto server = co_await l.accept(patience);
    server->set_active(net::active_mode::always());
    otter::send_after(5ms, otter::self(), std::string("tick"));
    co_await c->send("data");
    int data = 0, ticks = 0;
    while (data + ticks < 2) {
      const bool ok = co_await otter::receive([&](net::tcp_data) { ++data; return true; },
                                              [&](std::string) { ++ticks; return true; },
                                              otter::after(patience, [] { return false; }));
      REQUIRE(ok);
    }
    CHECK(data == 1);
    CHECK(ticks == 1);
  });
}

TEST_CASE("tcp - a socket handed to a process on another core keeps its unread data", "[net][cross-core]") {
  run(two_cores(), []() -> otter::process {
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0)).value();
    auto c = co_await net::tcp_socket::connect(l.local_address(), patience);
    auto server = co_await l.accept(patience);
    REQUIRE(server);
    co_await c->send("before");
    auto first = co_await server->recv(std::span<char>(), 5ms); // start reading on this core
    (void)first;
    const otter::pid me = otter::self();
    otter::pid next_owner = otter::spawn(otter::on_scheduler(1), [](otter::pid back) -> otter::process {
      auto s = co_await otter::receive<net::tcp_socket>();
      std::string got;
      while (got.size() < 11) {
        auto part = co_await s.recv(patience);
        if (!part || part->empty()) break;
        got += *part;
      }
      otter::send(back, got);
    }, me);
    co_await net::give_away(std::move(server.value()), next_owner);
    co_await c->send(" after");
    auto got = co_await otter::receive<std::string>(patience);
    REQUIRE(got);
    CHECK(*got == "before after");
  });
}

TEST_CASE("tcp - a process killed in I/O cancels it and closes its socket", "[net][kill]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0)).value();
    const net::address at = l.local_address();
    // One process waits in accept, one in recv, one in a send that cannot finish.
    auto [acceptor, am] = otter::spawn_monitor(where, [](net::tcp_listener lis) -> otter::process {
      co_await lis.accept();
    }, std::move(l));
    auto c = co_await net::tcp_socket::connect(at, patience); // (queued: the acceptor may take it)
    REQUIRE(c);
    otter::exit(acceptor, otter::exit_reason::kill());
    auto ad = co_await down_of(am);
    CHECK(ad);

    auto l2 = net::tcp_listener::listen(net::address::loopback_v4(0)).value();
    auto c2 = co_await net::tcp_socket::connect(l2.local_address(), patience);
    auto s2 = co_await l2.accept(patience);
    REQUIRE(s2);
    // Each says it is about to wait; the message leaves only once it waits.
    auto [reader, rm] = otter::spawn_monitor(where, [](net::tcp_socket s, otter::pid parent) -> otter::process {
      otter::send(parent, 1);
      co_await s.recv();
    }, std::move(s2.value()), otter::self());
    auto [writer, wm] = otter::spawn_monitor(where, [](net::tcp_socket s, otter::pid parent) -> otter::process {
      const std::string chunk(1 << 22, 'z');
      otter::send(parent, 2);
      for (;;) co_await s.send(chunk); // nobody reads the other end: this stays in the kernel
    }, std::move(c2.value()), otter::self());
    co_await otter::receive<int>();
    co_await otter::receive<int>();
    otter::exit(reader, otter::exit_reason::kill());
    otter::exit(writer, otter::exit_reason::kill());
    auto rd = co_await down_of(rm);
    auto wd = co_await down_of(wm);
    CHECK(rd);
    CHECK(wd);
    // ASan checks the rest: no buffer written after it was freed, nothing leaked.
  });
}
