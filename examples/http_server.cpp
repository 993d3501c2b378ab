// http_server: HTTP/1.1 with keep-alive and pipelining, answering every
// request with "hello, world\n". One process per connection under a
// supervisor, every core accepting; SIGINT or SIGTERM stops it gracefully.
//
//   build/examples/http_server --port 8080 --schedulers 2
//   curl -s http://127.0.0.1:8080/
//
// A connection is closed after answering a malformed request (400, 431, ...),
// after `idle_timeout` without a request, or when a started request is not
// complete within `request_timeout` (408) — so a slow client holds one small
// process, never a core.

#include <chrono>
#include <cstdio>
#include <string>

#include <otter/net/http.hpp>
#include <otter/net/server.hpp>
#include <otter/otter.hpp>

#include "server_cli.hpp"

using namespace std::chrono_literals;
namespace net = otter::net;
namespace http = otter::net::http;

constexpr auto idle_timeout = 60s;
constexpr auto request_timeout = 10s;

enum class event { data, closed, stop, timeout };

// After an error response, the client may still be sending: closing with
// unread data would reset the connection and could destroy the response
// before the client reads it. So: no more writes, then read and drop what
// comes, briefly and boundedly, before closing.
otter::task<> linger(net::tcp_socket& socket) {
  socket.shutdown();
  std::size_t dropped = 0;
  while (dropped < 1024 * 1024) {
    auto got = co_await socket.recv(1s);
    if (!got || got->empty()) co_return;
    dropped += got->size();
  }
}

otter::process http_connection(net::tcp_socket socket) {
  otter::trap_exit(true); // a stop arrives as a message, between two requests
  http::parser parser;
  std::string out;
  bool stopping = false;
  std::chrono::nanoseconds request_deadline{};
  for (;;) {
    // Answer every complete request buffered (pipelined ones in one send).
    // When stopping, the last one answered says Connection: close.
    bool keep_alive = true;
    while (keep_alive) {
      auto request = parser.next();
      if (!request) break;
      keep_alive = request->keep_alive() && !stopping;
      http::write_response(out, 200, "hello, world\n", keep_alive);
    }
    const bool refused = parser.error().has_value();
    if (refused) {
      http::write_response(out, parser.error()->status, parser.error()->reason + "\n", false);
      keep_alive = false;
    }
    if (!out.empty()) {
      auto sent = co_await socket.send(out);
      if (!sent) co_return;
      out.clear();
    }
    if (refused) co_await linger(socket);
    if (!keep_alive || (stopping && parser.buffered() == 0)) co_return;

    // Wait for more: an idle connection for `idle_timeout`; a started request
    // only until its deadline, however slowly its bytes trickle in.
    const auto now = otter::monotonic_time();
    if (parser.buffered() == 0) request_deadline = {};
    else if (request_deadline == std::chrono::nanoseconds{}) request_deadline = now + request_timeout;
    const std::chrono::nanoseconds wait = request_deadline != std::chrono::nanoseconds{} ? request_deadline - now
                                                                                          : std::chrono::nanoseconds(idle_timeout);
    socket.set_active(net::active_mode::once());
    const event e = co_await otter::receive(
        [&parser](net::tcp_data d) {
          parser.feed(d.bytes);
          return event::data;
        },
        [](net::tcp_closed) { return event::closed; }, [](net::tcp_error) { return event::closed; },
        [](otter::exit_message) { return event::stop; }, otter::after(wait, [] { return event::timeout; }));
    switch (e) {
    case event::data:
      break;
    case event::closed:
      co_return;
    case event::stop:
      stopping = true; // finish the request in hand, if any, then close
      break;
    case event::timeout:
      if (parser.buffered() > 0) {
        http::write_response(out, 408, "request timeout\n", false);
        co_await socket.send(out);
      }
      co_return;
    }
  }
}

otter::process main_process(net::address at) {
  otter::trap_exit(true);
  net::server_options options;
  options.at = at;
  options.listen.accepted.nodelay = true;
  options.drain = 5s;
  auto server = co_await net::start_server(std::move(options), http_connection);
  if (!server) fail_to_start(server.error()); // start_server 127.0.0.1:PORT: address already in use
  std::printf("http_server listening on %u\n", static_cast<unsigned>(server->at.port()));
  std::fflush(stdout);
  co_await serve_until_stopped(server->supervisor);
}

int main(int argc, char** argv) {
  try {
    const auto cli = parse_server_cli(argc, argv, 8080);
    if (!cli) return 2;
    otter::node_options options;
    options.schedulers = cli->schedulers;
    options.stop_on_signals = true;
    otter::node node(options);
    return node.run(main_process, cli->at);
  } catch (const otter::runtime_unavailable& e) {
    // The kernel refused io_uring (a seccomp policy, an old kernel...): say why.
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
