// The limits that keep hostile peers from holding a node's connections or
// memory: send_timeout, receive_limit, send_limit, the server's idle timeout
// and the node's connection memory budget (docs/limits.md).
#include <otter/net/tcp.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include <otter/link.hpp>
#include <otter/monitor.hpp>
#include <otter/net/server.hpp>
#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/registry.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>

#include "../support/await.hpp"
#include "../support/log_capture.hpp"
#include "../support/otter_test.hpp"

using namespace otter_test;
namespace net = otter::net;

namespace {

constexpr std::size_t receive_buffer = 16 * 1024; // node_options::receive_buffer_size's default

// What the test's helper processes report.
struct full {};                       // a flooder's send timed out: every buffer on the way is full
struct outcome {                      // how a handler's recv or send ended
  std::error_code error;
  std::chrono::steady_clock::duration after;
};
struct charged {
  otter::pid handler;
};
struct charge_more {
  std::ptrdiff_t bytes;
};
struct close_now {};

template <class T>
otter::task<std::optional<T>> next() {
  co_return co_await otter::receive([](T m) { return std::optional<T>(std::move(m)); },
                                    otter::after(patience, [] { return std::optional<T>(); }));
}

// Connects and writes `piece` again and again without ever reading, until a
// send times out (the peer's buffers and its own are full); says so to
// `observer` and keeps the connection open until told to close it.
otter::process flooder(net::address to, net::socket_options options, otter::pid observer) {
  auto c = co_await net::tcp_socket::connect(to, patience, options);
  if (!c) co_return;
  const std::string piece(64 * 1024, 'f');
  for (int i = 0; i < 100'000; ++i) {
    auto sent = co_await c->send(piece);
    if (!sent) break;
  }
  otter::send(observer, full{});
  auto told = co_await next<close_now>();
  (void)told;
}

net::socket_options flooding(std::chrono::milliseconds send_timeout) {
  net::socket_options o;
  o.send_timeout = send_timeout;
  o.send_limit = 64 * 1024;
  return o;
}

// Echoes what arrives until an error; a client that does not read leaves it
// stuck in send.
otter::process echo(net::tcp_socket s) {
  char buf[16 * 1024];
  for (int i = 0; i < 1'000'000; ++i) {
    auto n = co_await s.recv(std::span<char>(buf), patience);
    if (!n || *n == 0) co_return;
    auto sent = co_await s.send(std::string_view(buf, *n));
    if (!sent) co_return;
  }
}

// Sanitizers' shadow memory and quarantine make RSS say nothing about ours.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

// The process's resident set, bytes.
std::size_t rss() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// Holds an accepted connection without reading: charges what it is told to
// and, in active mode, reports how the socket ended (a tcp_error).
otter::process holder(net::tcp_socket s, otter::pid observer, std::ptrdiff_t first, bool active) {
  s.charge(first);
  if (active) s.set_active(net::active_mode::always());
  otter::send(observer, charged{otter::self()});
  auto on_error = [observer](net::tcp_error e) {
    otter::send(observer, outcome{e.error, {}});
    return true;
  };
  auto on_charge = [&s](charge_more m) {
    s.charge(m.bytes);
    return true;
  };
  for (int i = 0; i < 100; ++i) {
    const bool more = co_await otter::receive(on_error, on_charge, [](close_now) { return false; },
                                              otter::after(patience, [] { return false; }));
    if (!more) co_return;
  }
}

} // namespace

TEST_CASE("send_timeout - a send to a peer that never reads fails with timed_out, and the socket is then unusable",
          "[net][limits]") {
  run(one_core(), []() -> otter::process {
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0));
    REQUIRE(l);
    net::socket_options o;
    o.send_timeout = std::chrono::milliseconds(200);
    auto c = co_await net::tcp_socket::connect(l->local_address(), patience, o);
    REQUIRE(c);
    auto s = co_await l->accept(patience); // never read
    REQUIRE(s);
    const std::string big(64u << 20, 'x'); // more than any kernel buffers hold
    const auto start = std::chrono::steady_clock::now();
    auto sent = co_await c->send(big);
    const auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(sent);
    CHECK(sent.error() == std::errc::timed_out);
    // It waited for the timeout, not failing at once (the timer wheel may fire a tick early).
    CHECK(took >= std::chrono::milliseconds(150));
    CHECK(took < patience);
    CHECK(c->memory() == 0); // the send's copy went with it
    auto again = co_await c->send("more");
    REQUIRE_FALSE(again);
    CHECK(again.error() == std::errc::timed_out);
    auto got = co_await c->recv(patience);
    REQUIRE_FALSE(got);
    CHECK(got.error() == std::errc::timed_out);
  });
}

TEST_CASE("send_timeout - a timeout given to send wins over the socket's", "[net][limits]") {
  run(one_core(), []() -> otter::process {
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0));
    REQUIRE(l);
    net::socket_options o;
    o.send_timeout = std::chrono::hours(1);
    auto c = co_await net::tcp_socket::connect(l->local_address(), patience, o);
    REQUIRE(c);
    auto s = co_await l->accept(patience);
    REQUIRE(s);
    const std::string big(64u << 20, 'x');
    auto sent = co_await c->send(big, std::chrono::milliseconds(100));
    REQUIRE_FALSE(sent);
    CHECK(sent.error() == std::errc::timed_out);
  });
}

TEST_CASE("send_limit - a large send holds at most send_limit of the node's memory", "[net][limits]") {
  run(one_core(), []() -> otter::process {
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0));
    REQUIRE(l);
    net::socket_options o;
    o.send_limit = 256 * 1024;
    o.send_timeout = std::chrono::milliseconds(300);
    auto c = co_await net::tcp_socket::connect(l->local_address(), patience, o);
    REQUIRE(c);
    auto s = co_await l->accept(patience);
    REQUIRE(s);
    const std::string big(32u << 20, 'x');
    {
      auto a = c->send(big);
      CHECK(c->memory() == o.send_limit); // one piece copied, not 32 MiB
      CHECK(net::connection_memory() == o.send_limit);
      auto sent = co_await a;
      REQUIRE_FALSE(sent);
    }
    CHECK(net::connection_memory() == 0);
  });
}

TEST_CASE("receive_limit - a socket stops reading past its limit, at most one receive buffer over, and goes on "
          "once read",
          "[net][limits]") {
  run(one_core(), []() -> otter::process {
    net::listen_options lo;
    lo.accepted.receive_limit = 32 * 1024;
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0), lo);
    REQUIRE(l);
    otter::spawn(flooder, l->local_address(), flooding(std::chrono::milliseconds(300)), otter::self());
    auto s = co_await l->accept(patience);
    REQUIRE(s);
    char one[1];
    auto first = co_await s->recv(std::span<char>(one), patience); // starts reading ahead
    REQUIRE(first);
    auto f = co_await next<full>();
    REQUIRE(f);
    CHECK(s->memory() >= lo.accepted.receive_limit - 1);
    CHECK(s->memory() <= lo.accepted.receive_limit + receive_buffer);
    CHECK(net::connection_memory() <= lo.accepted.receive_limit + receive_buffer + 64 * 1024);
    // Reading on takes everything the flooder's buffers held, a limit at a time.
    std::size_t total = 0;
    for (int i = 0; i < 100'000 && total < 512 * 1024; ++i) {
      auto got = co_await s->recv(patience);
      if (!got || got->empty()) break;
      total += got->size();
      CHECK(s->memory() <= lo.accepted.receive_limit + receive_buffer);
    }
    CHECK(total >= 512 * 1024);
  });
}

TEST_CASE("receive_limit - a flood of clients that never read keeps connection memory within the limits, and it "
          "returns to zero when they close",
          "[net][limits]") {
  run(one_core(), []() -> otter::process {
    constexpr int clients = 24;
    net::listen_options lo;
    lo.accepted.receive_limit = 32 * 1024;
    lo.accepted.send_limit = 64 * 1024;
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0), lo);
    REQUIRE(l);
    const std::size_t before = rss();
    std::vector<otter::pid> flooders;
    std::vector<otter::ref> handlers;
    for (int i = 0; i < clients; ++i) {
      flooders.push_back(
          otter::spawn(flooder, l->local_address(), flooding(std::chrono::milliseconds(300)), otter::self()));
      auto s = co_await l->accept(patience);
      REQUIRE(s);
      auto [pid, ref] = otter::spawn_monitor(echo, std::move(s.value()));
      (void)pid;
      handlers.push_back(ref);
    }
    for (int i = 0; i < clients; ++i) {
      auto f = co_await next<full>();
      REQUIRE(f);
    }
    // Per connection: the server's unread bytes and its echo's copy; the
    // flooders' sends have given theirs back.
    const std::size_t per = lo.accepted.receive_limit + receive_buffer + lo.accepted.send_limit;
    const std::size_t counted = net::connection_memory();
    INFO("counted " << counted << " bytes");
    CHECK(counted <= clients * per);
    if (!sanitized) CHECK(rss() <= before + clients * per + (64u << 20)); // loose: the allocator's own slack
    for (otter::pid p : flooders) otter::send(p, close_now{});
    for (otter::ref r : handlers) {
      auto d = co_await down_of(r);
      REQUIRE(d);
    }
    CHECK(net::connection_memory() == 0);
  });
}

TEST_CASE("connection budget - above 90% new connections are closed at once, with a logged line", "[net][limits]") {
  log_capture log;
  {
    otter::node_options o = one_core();
    o.connection_memory = 1 << 20;
    o.log.sink = log.sink();
    run(o, []() -> otter::process {
      auto l = net::tcp_listener::listen(net::address::loopback_v4(0));
      REQUIRE(l);
      auto c1 = co_await net::tcp_socket::connect(l->local_address(), patience);
      REQUIRE(c1);
      auto s1 = co_await l->accept(patience);
      REQUIRE(s1);
      s1->charge(950 * 1024);
      CHECK(net::connection_memory() == 950 * 1024);
      CHECK(net::connection_memory_budget() == 1 << 20);
      auto c2 = co_await net::tcp_socket::connect(l->local_address(), patience);
      REQUIRE(c2);
      auto refused = co_await c2->recv(patience); // closed by the node at once
      CHECK((!refused || refused->empty()));
      s1->charge(-950 * 1024); // under the mark again: the next is served
      auto c3 = co_await net::tcp_socket::connect(l->local_address(), patience);
      REQUIRE(c3);
      auto s3 = co_await l->accept(patience);
      REQUIRE(s3);
      CHECK(s3->peer_address().to_string() == c3->local_address().to_string());
    });
  }
  auto reports = log.of<otter::connection_report>();
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].what == otter::connection_report::action::refused);
  CHECK(reports[0].total == 950 * 1024);
  CHECK(reports[0].budget == 1 << 20);
  CHECK(reports[0].to_string().find(" refused: connections hold 972800 bytes, over 90% of the budget of 1048576 "
                                    "bytes") != std::string::npos);
}

TEST_CASE("connection budget - past 100% the greediest connection is closed with no_buffer_space, with a logged "
          "line",
          "[net][limits]") {
  log_capture log;
  std::string greedy_peer;
  {
    otter::node_options o = one_core();
    o.connection_memory = 1 << 20;
    o.log.sink = log.sink();
    run(o, [&greedy_peer]() -> otter::process {
      auto l = net::tcp_listener::listen(net::address::loopback_v4(0));
      REQUIRE(l);
      auto c1 = co_await net::tcp_socket::connect(l->local_address(), patience);
      REQUIRE(c1);
      auto s1 = co_await l->accept(patience);
      REQUIRE(s1);
      auto c2 = co_await net::tcp_socket::connect(l->local_address(), patience);
      REQUIRE(c2);
      auto s2 = co_await l->accept(patience);
      REQUIRE(s2);
      greedy_peer = c2->local_address().to_string();
      auto [modest, m_ref] = otter::spawn_monitor(holder, std::move(s1.value()), otter::self(), 100 * 1024, false);
      auto h1 = co_await next<charged>();
      REQUIRE(h1);
      auto [greedy, g_ref] = otter::spawn_monitor(holder, std::move(s2.value()), otter::self(), 600 * 1024, true);
      auto h2 = co_await next<charged>();
      REQUIRE(h2);
      CHECK(net::connection_memory() == 700 * 1024);
      otter::send(modest, charge_more{400 * 1024}); // 1.1 MiB in all: over
      auto out = co_await next<outcome>();
      REQUIRE(out);
      CHECK(out->error == std::errc::no_buffer_space); // the greedy one, as tcp_error
      auto peer_saw = co_await c2->recv(patience);
      CHECK((!peer_saw || peer_saw->empty())); // its peer sees the end
      CHECK(net::connection_memory() == 500 * 1024 + 600 * 1024); // its charge is its owner's to give back
      otter::send(greedy, close_now{});
      auto gone = co_await down_of(g_ref);
      REQUIRE(gone);
      CHECK(net::connection_memory() == 500 * 1024);
      auto fine = co_await c1->send("still served");
      CHECK(fine);
      otter::exit(modest, otter::exit_reason::kill());
      auto d = co_await down_of(m_ref);
      REQUIRE(d);
      CHECK(net::connection_memory() == 0);
    });
  }
  auto reports = log.of<otter::connection_report>();
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].what == otter::connection_report::action::closed);
  CHECK(reports[0].peer == greedy_peer);
  CHECK(reports[0].held == 600 * 1024);
  CHECK(reports[0].to_string() == "otter: connection from " + greedy_peer +
                                      " closed (no_buffer_space): it held 614400 bytes; connections hold 1126400 "
                                      "bytes, over the budget of 1048576 bytes");
}

TEST_CASE("charge - giving back more than was charged gives back what was charged", "[net][limits]") {
  run(one_core(), []() -> otter::process {
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0));
    REQUIRE(l);
    auto c = co_await net::tcp_socket::connect(l->local_address(), patience);
    REQUIRE(c);
    c->charge(1000);
    CHECK(c->memory() == 1000);
    c->charge(-5000);
    CHECK(c->memory() == 0);
    CHECK(net::connection_memory() == 0);
    c->charge(300);
    c->close(); // what is still charged goes back with the socket
    CHECK(net::connection_memory() == 0);
    net::tcp_socket none;
    none.charge(100); // no socket: nothing to count
    CHECK(none.memory() == 0);
  });
}

TEST_CASE("idle_timeout - a server connection stuck writing to a peer that never reads is closed", "[net][limits]") {
  run(one_core(), []() -> otter::process {
    otter::register_name("observer", otter::self());
    otter::trap_exit(true); // the server is linked to us
    net::server_options o;
    o.idle_timeout = std::chrono::milliseconds(300);
    auto stuck_writer = [](net::tcp_socket s) -> otter::process {
      const std::string big(64u << 20, 'x'); // the 30 s send_timeout would come much later
      const auto start = std::chrono::steady_clock::now();
      auto sent = co_await s.send(big);
      otter::send("observer", outcome{sent ? std::error_code{} : sent.error(), std::chrono::steady_clock::now() - start});
    };
    auto server = co_await net::start_server(std::move(o), stuck_writer);
    REQUIRE(server);
    auto c = co_await net::tcp_socket::connect(server->at, patience); // never reads
    REQUIRE(c);
    auto out = co_await next<outcome>();
    REQUIRE(out);
    CHECK(out->error == std::errc::timed_out);
    CHECK(out->after >= std::chrono::milliseconds(300));
    CHECK(out->after < std::chrono::seconds(10));
    otter::exit(server->supervisor, otter::exit_reason::shutdown());
    auto stopped = co_await exit_from(server->supervisor);
    REQUIRE(stopped);
  });
}

TEST_CASE("idle_timeout - a silent server connection is closed", "[net][limits]") {
  run(one_core(), []() -> otter::process {
    otter::register_name("observer", otter::self());
    otter::trap_exit(true); // the server is linked to us
    net::server_options o;
    o.idle_timeout = std::chrono::milliseconds(200);
    auto waiter = [](net::tcp_socket s) -> otter::process {
      const auto start = std::chrono::steady_clock::now();
      auto got = co_await s.recv(patience);
      otter::send("observer", outcome{got ? std::error_code{} : got.error(), std::chrono::steady_clock::now() - start});
    };
    auto server = co_await net::start_server(std::move(o), waiter);
    REQUIRE(server);
    auto c = co_await net::tcp_socket::connect(server->at, patience);
    REQUIRE(c);
    auto out = co_await next<outcome>();
    REQUIRE(out);
    CHECK(out->error == std::errc::timed_out);
    CHECK(out->after >= std::chrono::milliseconds(200));
    auto peer_saw = co_await c->recv(patience); // and its peer sees the end
    CHECK((!peer_saw || peer_saw->empty()));
    otter::exit(server->supervisor, otter::exit_reason::shutdown());
    auto stopped = co_await exit_from(server->supervisor);
    REQUIRE(stopped);
  });
}
