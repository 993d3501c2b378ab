#pragma once
// An epmd server as an otter process, for nodes without an epmd daemon (and for tests).

#include <otter/io_result.hpp>
#include <otter/net/address.hpp>
#include <otter/pid.hpp>

namespace otter::dist {

struct epmd_server {
  /// The process that accepts clients; each client is served by a process linked
  /// to it. Killing it (otter::exit(process, kill)) stops the server, and every
  /// registration ends.
  pid process;
  /// Where it listens (the bound port, if `bind` asked for port 0).
  net::address address;
};

/// Listens on `bind` and serves epmd's protocol there: ALIVE2 (only from a
/// loopback peer, as epmd does; a name is taken while its registering socket
/// stays open; creations are nonzero and rise with each registration of a name),
/// PORT_PLEASE2 and NAMES, one request per connection. A bad request closes that
/// client's connection only. Fails with the kernel's error (address_in_use, ...).
/// Call from a process: the server runs on the caller's core.
io_result<epmd_server> start_epmd_server(net::address bind);

} // namespace otter::dist
