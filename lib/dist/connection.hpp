#pragma once
// The processes of a distributed node: one per peer that owns its connection,
// the acceptor and its handshakes, the net_kernel that answers pings, and the
// boot process that starts them and holds the epmd registration.

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include <otter/process.hpp>

#include "runtime.hpp"

namespace otter::dist::detail {

/// From a handshake process to a peer's node process: a connection the peer
/// opened is ready; its socket follows (net::give_away).
struct accepted {
  std::string node;
  std::uint32_t creation = 0;
  std::uint64_t flags = 0;
  std::string leftover; ///< bytes read past the handshake (the first frames)
  std::string peer_address;
};

/// A peer's node process: connects on first use, writes what the node sends
/// there, delivers what arrives, keeps the links and monitors that cross.
process node_process(dist_node* d, std::shared_ptr<peer> p);

/// Listens, registers with epmd (or serves it), starts the acceptor and
/// net_kernel, reports (null: started), then holds the registration.
process boot_process(dist_node* d, std::function<void(std::exception_ptr)> report);

} // namespace otter::dist::detail
