#pragma once
// otter::dist::options — how a node joins a cluster (node_options::distribution).

#include <otter/detail/config.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace otter::dist {

/// Whether the node serves epmd's protocol itself when none answers.
enum class epmd_mode : std::uint8_t {
  use_or_serve, ///< register with the epmd on the epmd port; if none runs, serve it (default)
  use,          ///< register with a running epmd; fail to start without one
  serve,        ///< serve epmd on the epmd port (fails if the port is taken)
};

/// Distribution is off while `name` is empty. With a name, `node::run` starts it
/// before the first process: it listens for other nodes, registers with epmd and
/// answers `net_adm:ping`. If that fails (a taken name, an unreadable cookie, no
/// epmd with epmd_mode::use), `run` throws otter::dist::start_error.
struct options {
  /// `app@localhost` (a short name: the host has no dots) or `app@host.example.com`
  /// / `app@127.0.0.1` (a long name), as Erlang's `-sname` and `-name` spell them. A
  /// name without `@host` gets this machine's host name (short form).
  std::string name;
  /// `-name` rules instead of `-sname` rules. A host with dots (`a@127.0.0.1`,
  /// `a@host.example.com`) means long names whatever this says; it matters for a
  /// name without `@host`, or a dot-less host. Peers must use the same kind.
  bool long_names = false;
  /// The cookie. Empty: read `$HOME/.erlang.cookie` with OTP's rules (a regular file
  /// readable by its owner only; created with 20 random letters if missing).
  std::string cookie;
  /// epmd's TCP port; 0: the ERL_EPMD_PORT environment variable, else 4369.
  std::uint16_t epmd_port = 0;
  epmd_mode epmd = epmd_mode::use_or_serve;
  /// Where the node listens for other nodes: any port (0) on every address, as erl does.
  std::string listen_address = "0.0.0.0";
  std::uint16_t listen_port = 0;
  /// A hidden node is not shown in other nodes' `nodes()` (Erlang's `-hidden`).
  bool hidden = false;
  /// Erlang's `net_ticktime`: a connection that reads nothing for this long is
  /// down (reason net_tick_timeout); a tick is written every quarter of it.
  std::chrono::milliseconds ticktime = std::chrono::seconds(60);
  /// How long each step of setting up a connection may take (Erlang's net_setuptime).
  std::chrono::milliseconds setup_time = std::chrono::seconds(7);
  /// The largest frame accepted from a peer; a larger one drops the connection.
  std::size_t max_frame = 64u << 20;
  /// Log connections coming up and going down (with the peer and the reason).
  bool log_connections = true;
};

} // namespace otter::dist
