// echo_server: a TCP echo server built the OTP way. Every core listens on the
// port (SO_REUSEPORT) and runs its own connections, one process each, under a
// supervisor; SIGINT or SIGTERM stops it gracefully.
//
//   build/examples/echo_server --port 7000 --schedulers 2
//   printf 'hello\n' | nc -q1 127.0.0.1 7000

#include <chrono>
#include <cstdio>
#include <string>

#include <otter/net/server.hpp>
#include <otter/otter.hpp>

#include "server_cli.hpp"

namespace net = otter::net;

// One connection: sends back what arrives. In active mode the socket's data
// comes as messages, one at a time, so the process waits for data and for the
// server's stop at once. Trapping exits turns the stop into a message: it
// arrives between two echoes, never in the middle of one.
otter::process echo(net::tcp_socket socket) {
  otter::trap_exit(true);
  std::string data;
  for (;;) {
    socket.set_active(net::active_mode::once());
    const bool more = co_await otter::receive(
        [&data](net::tcp_data d) {
          data = std::move(d.bytes);
          return true;
        },
        [](net::tcp_closed) { return false; }, [](net::tcp_error) { return false; },
        [](otter::exit_message) { return false; });
    if (!more) co_return;
    auto sent = co_await socket.send(data);
    if (!sent) co_return;
  }
}

otter::process main_process(net::address at) {
  otter::trap_exit(true);
  net::server_options options;
  options.at = at;
  options.listen.accepted.nodelay = true;
  auto server = co_await net::start_server(std::move(options), echo);
  if (!server) fail_to_start(server.error()); // start_server 127.0.0.1:PORT: address already in use
  std::printf("echo_server listening on %u\n", static_cast<unsigned>(server->at.port()));
  // Safe by default (docs/limits.md): a client that never reads or goes
  // silent is timed out, and all connections share one memory budget.
  const net::socket_options limits;
  std::printf("limits: receive %zu KiB, send %zu KiB, send timeout %llds, idle timeout %llds, memory budget %zu MiB\n",
              limits.receive_limit / 1024, limits.send_limit / 1024,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(limits.send_timeout).count()),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::seconds>(net::server_options{}.idle_timeout).count()),
              net::connection_memory_budget() >> 20);
  std::fflush(stdout);
  co_await serve_until_stopped(server->supervisor);
}

int main(int argc, char** argv) { return run_server(argc, argv, 7000, main_process); }
