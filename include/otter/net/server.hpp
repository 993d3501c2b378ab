#pragma once
// otter::net::server — a supervised TCP server: a listener on every core
// (SO_REUSEPORT), one process per connection, a graceful stop. The port is the
// server's alone: the cores share it among themselves, never with another
// server or program.
//
//   server (rest_for_one)
//   ├── connections (simple_one_for_one: one child per core)
//   │   ├── connections of core 0 (simple_one_for_one: one temporary child per connection)
//   │   └── connections of core 1 ...
//   └── acceptors (one_for_one)
//       ├── acceptor on core 0 — listens on the port, starts a connection per accept
//       └── acceptor on core 1 ...
//
// Stopping the server stops the acceptors first (no new connections), then
// tells every connection, on all cores at once, to stop with exit signal
// `shutdown`. A connection
// that traps exits gets an `exit_message` and may finish what it is doing
// within `drain`; after that it is killed. A crashed connection is just gone
// (it is temporary); a crashed acceptor is restarted and listens again on the
// same port.
#include <otter/detail/config.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <otter/net/address.hpp>
#include <otter/net/tcp.hpp>
#include <otter/pid.hpp>
#include <otter/process.hpp>
#include <otter/result.hpp>
#include <otter/supervisor.hpp>
#include <otter/task.hpp>

namespace otter::net {

/// Serves one connection, as its own process. It owns the socket; the
/// connection closes when the process ends.
using connection_handler = std::function<process(tcp_socket)>;

struct server_options {
  /// Where to listen. Port 0 picks a free port (the same one on every core;
  /// see `server_started::at` and `on_listening`).
  address at = address::loopback_v4(0);
  /// How many cores accept and run connections, from core 0 up; 0 means all
  /// of the node's schedulers.
  int cores = 0;
  /// Listener settings. The server sets reuse_port and claim_port itself:
  /// its first listener claims the port, the other cores' listeners join it.
  listen_options listen{};
  /// On stop, how long the connections may take to finish after their
  /// `shutdown` exit signal before they are killed.
  std::chrono::milliseconds drain = std::chrono::seconds(5);
  /// A connection on which no byte moves, in either direction, for this long
  /// is closed (its handler's recv and send fail with timed_out): it covers a
  /// peer that is silent as well as one that stops reading while the handler
  /// sends. See tcp_socket::set_idle_timeout; wait_forever turns it off.
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds(120);
  /// Called once, when the first acceptor starts, with the address bound.
  std::function<void(const address&)> on_listening;
};

/// What `start_server` returns.
struct server_started {
  otter::pid supervisor; ///< the server's top supervisor (stop the server by stopping it)
  address at;            ///< the bound address (its actual port)
};

/// Starts a server linked to the caller, with `handler` run as a process for
/// each accepted connection; resumes the caller on its own core once every
/// core listens. A port that anything listens on already — another program,
/// with SO_REUSEPORT or without, or another server of this node — fails the
/// start before any process exists, with a reason that reads
/// `start_server 127.0.0.1:8080: address already in use`; other listen
/// failures read the same way. If the caller is killed while the server
/// starts, the half-started server goes down with it (it is linked).
task<result<server_started>> start_server(server_options options, connection_handler handler);

/// The same server as a child of your own supervision tree. A failed start is
/// reported by your supervisor as
/// `{shutdown,"failed_to_start_child ID: start_server ADDRESS: REASON"}`.
child_spec server_spec(std::string id, server_options options, connection_handler handler);

} // namespace otter::net
