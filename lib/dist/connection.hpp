#pragma once
// The processes of a distributed node: one per peer that owns its connection,
// the acceptor and its handshakes, the net_kernel that answers pings, and the
// boot process that starts them and holds the epmd registration.

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include <otter/logger.hpp>
#include <otter/net/tcp.hpp>
#include <otter/process.hpp>
#include <otter/task.hpp>

#include "handshake.hpp"

#include "runtime.hpp"

namespace otter::dist::detail {

/// From a handshake process to a peer's node process: a connection the peer
/// opened is ready; its socket follows (net::give_away).
struct accepted {
  std::string node;
  std::uint32_t creation = 0;
  std::uint64_t flags = 0;      ///< negotiated (ours & theirs)
  std::uint64_t peer_flags = 0; ///< the peer's own (PUBLISHED clear: a hidden node)
  std::string leftover; ///< bytes read past the handshake (the first frames)
  std::string peer_address;
};

/// From a handshake process to a peer's node process: the peer's attempt that
/// was answered ok (or ok_simultaneous, or alive) failed after all.
struct accept_failed {
  std::string node;
};

/// A peer's node process: connects on first use, writes what the node sends
/// there, delivers what arrives, keeps the links and monitors that cross.
process node_process(dist_node* d, std::shared_ptr<peer> p);

/// Listens, registers with epmd (or serves it), starts the acceptor and
/// net_kernel, reports (null: started), then holds the registration.
process boot_process(dist_node* d, std::function<void(std::exception_ptr)> report);

// Shared by the node processes and the handshake processes.

/// Posts a connection report to the node's logger (if any).
void log_node(node_report::event what, std::string node, std::string detail) noexcept;

/// What this node's handshakes say of it.
handshake_config config_of(const dist_node& d);

/// Runs a handshake over `s` until it is done or failed, or `deadline` passes.
/// An initiator for `p` asked "alive" replaces the peer's old connection unless
/// it has yielded to the peer's own attempt meanwhile.
task<bool> drive(handshake& hs, net::tcp_socket& s, std::chrono::steady_clock::time_point deadline, std::string& why,
                 peer* p = nullptr);

/// The socket a handshake process gives away after `accepted` (closed if none came in `limit`).
task<net::tcp_socket> take_socket(std::chrono::milliseconds limit);

/// Sends a signal to a local process from the node process's scheduler.
void signal_local(const otter::detail::signal& sig);

} // namespace otter::dist::detail
