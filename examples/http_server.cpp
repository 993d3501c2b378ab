// http_server: HTTP/1.1 with keep-alive and pipelining, answering every
// request with "hello, world\n". One process per connection under a
// supervisor, every core accepting; SIGINT or SIGTERM stops it gracefully.
//
//   build/examples/http_server --port 8080 --schedulers 2
//   curl -s http://127.0.0.1:8080/
//
// net::http::serve runs the connection: it parses requests strictly (a
// malformed one gets 400, 431, 501, ... and a lingering close), and bounds
// every wait — `idle_timeout` without a request, `request_timeout` for each
// request (pipelined ones each get their own), `send_timeout` for a client
// that does not read — so a slow client holds one small process, never a core.

#include <chrono>
#include <cstdio>
#include <string>

#include <otter/net/http_server.hpp>
#include <otter/net/server.hpp>
#include <otter/otter.hpp>

#include "server_cli.hpp"

using namespace std::chrono_literals;
namespace net = otter::net;
namespace http = otter::net::http;

// The application: one function from request to response.
http::response hello(const http::request&) {
  http::response r;
  r.body = "hello, world\n";
  return r;
}

otter::process http_connection(net::tcp_socket socket) {
  otter::trap_exit(true); // a stop arrives as a message, between two requests
  http::serve_options options;
  options.idle_timeout = 60s;
  options.request_timeout = 10s;
  options.send_timeout = 30s;
  options.linger_timeout = 2s;
  auto served = http::serve(socket, hello, options);
  co_await std::move(served); // no upgrade is ever accepted here
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

int main(int argc, char** argv) { return run_server(argc, argv, 8080, main_process); }
