#include <otter/net/http_server.hpp>

#include <string>

#include <otter/monitor.hpp>
#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/timer.hpp>

#include "../support/otter_test.hpp"

using namespace otter_test;
namespace net = otter::net;
namespace http = otter::net::http;

namespace {

const std::string get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

http::response ok(const http::request&) {
  http::response r;
  r.body = "ok";
  return r;
}

struct tunnel_report {
  std::string remaining;
};

// Serves one connection; an accepted upgrade is reported to `observer`.
otter::process serving(net::tcp_socket socket, http::handler handle, http::serve_options options, otter::pid observer) {
  auto served = http::serve(socket, std::move(handle), options);
  auto upgraded = co_await std::move(served);
  if (upgraded) otter::send(observer, tunnel_report{upgraded->remaining});
}

struct connection {
  net::tcp_socket client;
  otter::monitored_process server;
};

// A client connected to a process running serve() on the accepted socket.
otter::task<connection> connect(http::handler handle, http::serve_options options, net::socket_options server_socket = {}) {
  auto listener = net::tcp_listener::listen(net::address::loopback_v4(0)).value();
  auto client = co_await net::tcp_socket::connect(listener.local_address(), patience);
  REQUIRE(client);
  auto accepted = co_await listener.accept(patience);
  REQUIRE(accepted);
  REQUIRE(accepted->set_options(server_socket));
  auto server = otter::spawn_monitor(serving, std::move(*accepted), std::move(handle), options, otter::self());
  co_return connection{std::move(*client), server};
}

std::size_t count(const std::string& s, std::string_view what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// Waits (bounded) for the server's DOWN; false if it did not come.
otter::task<bool> server_exits(const connection& c, std::chrono::nanoseconds within) {
  const otter::ref m = c.server.monitor;
  auto down = otter::receive(otter::when([m](const otter::down_message& d) { return d.monitor == m; },
                                         [](const otter::down_message&) { return true; }),
                             otter::after(within, [] { return false; }));
  co_return co_await down;
}

} // namespace

TEST_CASE("http_server - each pipelined request gets its own deadline", "[net][http]") {
  run(one_core(), []() -> otter::process {
    http::serve_options options;
    options.request_timeout = 600ms;
    options.idle_timeout = patience;
    auto c = co_await connect(ok, options);
    // Every write ends one request and starts the next, 200 ms apart: each
    // request takes 200 ms, all of them 1.4 s, more than one request_timeout.
    const std::size_t half = 10;
    auto sent = co_await c.client.send(get + get.substr(0, half), patience);
    REQUIRE(sent);
    for (int i = 0; i < 6; ++i) {
      co_await otter::sleep(200ms);
      const std::string more = get.substr(half) + (i < 5 ? get.substr(0, half) : std::string());
      sent = co_await c.client.send(more, patience);
      REQUIRE(sent);
    }
    std::string got;
    for (int reads = 0; reads < 100 && count(got, "200 OK") < 7; ++reads) {
      auto part = co_await c.client.recv(patience);
      if (!part || part->empty()) break;
      got += *part;
    }
    CHECK(count(got, "200 OK") == 7);
    CHECK(count(got, "408") == 0);
    c.client = {};
    const bool exited = co_await server_exits(c, patience);
    CHECK(exited);
  });
}

TEST_CASE("http_server - a started request not complete within request_timeout gets 408", "[net][http]") {
  run(one_core(), []() -> otter::process {
    http::serve_options options;
    options.request_timeout = 200ms;
    auto c = co_await connect(ok, options);
    auto sent = co_await c.client.send(get + "GET / HT", patience);
    REQUIRE(sent);
    std::string got;
    for (int reads = 0; reads < 100; ++reads) {
      auto part = co_await c.client.recv(patience);
      if (!part || part->empty()) break;
      got += *part;
    }
    CHECK(count(got, "200 OK") == 1);
    CHECK(count(got, "408 Request Timeout") == 1);
    const bool exited = co_await server_exits(c, patience);
    CHECK(exited);
  });
}

TEST_CASE("http_server - the lingering close after a refusal ends by its total deadline", "[net][http]") {
  run(one_core(), []() -> otter::process {
    http::serve_options options;
    options.linger_timeout = 300ms;
    auto c = co_await connect(ok, options);
    auto sent = co_await c.client.send("BAD\r\n\r\n", patience);
    REQUIRE(sent);
    std::string got;
    for (int reads = 0; reads < 100 && got.find("\r\n\r\n") == std::string::npos; ++reads) {
      auto part = co_await c.client.recv(patience);
      if (!part || part->empty()) break;
      got += *part;
    }
    CHECK(got.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
    // Keep trickling a byte every 20 ms, far more often than any per-read
    // timeout: only a total deadline ends the linger.
    const auto start = otter::monotonic_time();
    bool exited = false;
    for (int i = 0; i < 250 && !exited; ++i) {
      auto byte = co_await c.client.send("x", patience);
      (void)byte; // fails once the server is gone
      exited = co_await server_exits(c, 20ms);
    }
    CHECK(exited);
    CHECK(otter::monotonic_time() - start < 3s);
  });
}

TEST_CASE("http_server - a pipelining client that does not read is dropped by the send timeout", "[net][http]") {
  run(one_core(), []() -> otter::process {
    http::serve_options options;
    options.send_timeout = 300ms;
    auto big = [](const http::request&) {
      http::response r;
      r.body.assign(4 * 1024 * 1024, 'b');
      return r;
    };
    net::socket_options small;
    small.send_buffer = 4096;
    auto c = co_await connect(big, options, small);
    REQUIRE(c.client.set_options(net::socket_options{.receive_buffer = 4096}));
    auto sent = co_await c.client.send(get + get + get, patience);
    REQUIRE(sent);
    const auto start = otter::monotonic_time();
    const bool exited = co_await server_exits(c, patience);
    CHECK(exited);
    CHECK(otter::monotonic_time() - start < 10s);
  });
}

TEST_CASE("http_server - an accepted CONNECT hands the socket and the bytes after it over", "[net][http]") {
  run(one_core(), []() -> otter::process {
    auto tunnel = [](const http::request& r) {
      http::response answer;
      answer.status = r.method == "CONNECT" ? 200 : 404;
      return answer;
    };
    auto c = co_await connect(tunnel, {});
    auto sent = co_await c.client.send("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\nGET /not-http\r\n\r\n", patience);
    REQUIRE(sent);
    auto report = otter::receive([](tunnel_report r) { return r.remaining; },
                                 otter::after(patience, [] { return std::string("(none)"); }));
    const std::string remaining = co_await report;
    CHECK(remaining == "GET /not-http\r\n\r\n");
    auto head = co_await c.client.recv(patience);
    REQUIRE(head);
    CHECK(*head == "HTTP/1.1 200 OK\r\n\r\n");
  });
}

TEST_CASE("http_server - a response to HEAD has no body, so a pipelined request after it stays framed", "[net][http]") {
  run(one_core(), []() -> otter::process {
    auto c = co_await connect(ok, {});
    auto sent = co_await c.client.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n" + get, patience);
    REQUIRE(sent);
    std::string got;
    for (int reads = 0; reads < 100 && count(got, "200 OK") < 2; ++reads) {
      auto part = co_await c.client.recv(patience);
      if (!part || part->empty()) break;
      got += *part;
    }
    const std::string one = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n";
    CHECK(got == one + one + "ok");
  });
}

TEST_CASE("http_server - an unfinished upload's buffered bytes count against the connection memory budget",
          "[net][http]") {
  run(one_core(), []() -> otter::process {
    http::serve_options options;
    options.request_timeout = patience;
    auto c = co_await connect(ok, options);
    // 200 KB of a 300 KB body: more than the socket itself buffers (its
    // receive_limit), so most of it is held by serve's parser.
    const std::string head = "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 300000\r\n\r\n";
    auto sent = co_await c.client.send(head + std::string(200000, 'u'), patience);
    REQUIRE(sent);
    const auto deadline = otter::monotonic_time() + patience;
    while (net::connection_memory() < 200000 && otter::monotonic_time() < deadline) co_await otter::sleep(1ms);
    CHECK(net::connection_memory() >= 200000);
    c.client = {};
    const bool exited = co_await server_exits(c, patience);
    CHECK(exited);
    CHECK(net::connection_memory() == 0);
  });
}
