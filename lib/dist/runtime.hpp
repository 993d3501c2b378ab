#pragma once
// A node's distribution: who it is, its peers, and the routes from the core's
// send and signal paths to the process that owns each peer's connection.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <otter/dist/options.hpp>
#include <otter/dist/term.hpp>
#include <otter/exit_reason.hpp>
#include <otter/net/address.hpp>
#include <otter/pid.hpp>
#include <otter/process.hpp>
#include <otter/ref.hpp>

#include "../signals.hpp"
#include "etf.hpp"

namespace otter::detail {
struct node_state;
class scheduler;
struct envelope;
} // namespace otter::detail

namespace otter::dist::detail {

/// What a peer's node process is asked to do: write a message or a signal to
/// its peer, or something about the connection itself.
struct outbound {
  enum class op : std::uint8_t {
    send,         // `encoded` (a term with its version byte) to `to`
    reg_send,     // `encoded` to the process registered as `name` on the peer
    link,         // `from` (local) links to `to` (remote)
    unlink,
    link_exit,    // `from`, linked to `to`, exited with `reason`
    exit,         // exit(to, reason) from `from`
    monitor,      // `from` monitors `to` under `tag`
    monitor_name, // `from` monitors `name` on the peer under `tag`
    demonitor,    // `from` no longer monitors `to` (`tag`)
    down,         // `from`, monitored by `to` under the proxy `tag`, exited with `reason`
    connect,      // answer `from` with `connected` once the connection is up or failed
    disconnect,   // drop the connection
    frames,       // `encoded` is whole SEND frames, made for the incarnation `index`
    spawn_request, // `from` asks for `name`:`function`(`encoded` args, `arity` of them) under `tag`
  };
  op what = op::send;
  std::uint16_t index = 0;
  pid from;
  pid to;
  otter::ref tag;
  std::string name;
  std::string encoded;
  exit_reason reason;
  std::string function; // spawn_request only
  std::uint32_t arity = 0;
  bool link = false;
};

/// The answer to outbound::op::spawn_request: the new pid, or why there is none.
struct spawn_answer {
  otter::ref tag;
  pid spawned;
  exit_reason error; // when `spawned` is null
};

/// What the processes of one scheduler have for a peer, in the order they
/// did it. Sends to the incarnation that is up arrive as frames the sender
/// encoded, appended to one `frames` item; everything else as itself. The
/// node process is told once (a `drain` message) until it takes the lot.
struct alignas(64) outbox {
  std::mutex mutex;
  std::vector<outbound> items;
  bool told = false;
  pid control_for;         // the last SEND frame's target, and
  std::string control;     // its encoded control message
};

/// To a node process: its outboxes hold something.
struct drain {};

/// The answer to outbound::op::connect.
struct connected {
  std::string node;
  bool up = false;
};

/// One peer node, by name. Its node process lives as long as the run.
///
/// Who sets a connection up is decided under `mutex`: the node process marks
/// `pending` before it dials, a handshake process marks `accepting` when it
/// says ok to the peer's attempt, and each looks at the other's mark first,
/// so that at most one connection to the peer is made at a time.
struct peer {
  std::string name;
  pid process;                          // its node process (set once, before it is shared)
  std::mutex mutex;                     // guards the changes of up, pending, accepting, yielded
  std::atomic<bool> up{false};
  std::atomic<bool> pending{false};     // an attempt of ours is in progress
  bool accepting = false;               // the peer's attempt was answered ok: its connection is coming
  bool yielded = false;                 // while pending, the peer's attempt was answered ok_simultaneous
  std::atomic<std::uint16_t> node_index{0}; // node-table index of the incarnation that is up
  std::atomic<bool> hidden{false};
  std::unique_ptr<outbox[]> outboxes;   // one per scheduler
  unsigned outbox_count = 0;
};

/// Appends `o` to the outbox of the scheduler `s` runs, and tells the node
/// process if it was not told yet.
void enqueue(otter::detail::scheduler& s, peer& p, outbound&& o);
/// Everything the outboxes hold (in each scheduler's order), for the node process.
void take_outboxes(peer& p, std::vector<outbound>& into);

/// Subscribers to nodeup/nodedown.
struct node_watch {
  pid watcher;
  std::string node; // empty: every node (monitor_nodes)
};

struct dist_node {
  otter::detail::node_state* node = nullptr;
  options opts;
  std::string name;   // app@host
  std::string alive;  // app
  std::string host;   // host
  std::string cookie;
  bool long_names = false;      // -name rules (options' long_names, or our host has dots)
  std::uint32_t creation = 0;
  std::uint16_t self_index = 0; // in the node table
  std::uint16_t listen_port = 0;
  net::address epmd;            // where epmd answers (ours or another)

  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<peer>> peers;
  std::vector<node_watch> watches;

  // Node-table index → its peer. Set the first time a pid of that
  // incarnation is routed; read without a lock by every sender. Peers live as
  // long as the run.
  std::unique_ptr<std::atomic<peer*>[]> routes;

  local_node local() const noexcept { return {name, creation, self_index}; }

  /// The peer named `node`, its node process started if need be. Null if the
  /// name is not a node name, or is our own. On a scheduler thread.
  std::shared_ptr<peer> find_or_start(std::string_view node);
  std::shared_ptr<peer> find(std::string_view node);
  /// The peer for a remote pid (null: it names no reachable node).
  peer* route(pid remote);

  /// Tells subscribers that `node` came up or went down. monitor_node
  /// subscriptions end with the nodedown they get; monitor_nodes ones do not
  /// hear of hidden nodes, as in Erlang.
  void announce(const std::string& node, bool up, const exit_reason& why, bool hidden = false);
};

/// Whether `node` may be a peer of `d`: a node name (`alive@host`) of the same
/// kind as ours — a long name's host has dots, a short name's has none, as
/// Erlang's -name and -sname nodes require of each other. If not, `why` says so.
bool peer_name_fits(const dist_node& d, std::string_view node, std::string* why);

/// The node's distribution, or null if it is not distributed (or not running).
dist_node* current() noexcept;

/// From the core's send path: a message to a remote pid. Consumes `e`; throws
/// otter::badarg if the message's type has no term codec.
void route_message(otter::detail::scheduler& s, pid to, otter::detail::envelope* e);
/// node::send from a thread that is not one of the node's to a remote pid:
/// the message goes to scheduler 0, which routes it as route_message does (so
/// one thread's messages to one pid keep their order). Consumes `e`; throws
/// otter::badarg if the message's type has no term codec.
void send_from_outside(otter::detail::node_state& st, pid to, otter::detail::envelope* e);
/// From the core: a signal whose target is a remote pid.
void route_signal(otter::detail::scheduler& s, const otter::detail::signal& sig);

/// Hands `out` to the node process for `node`. False if `node` names no peer.
bool post(std::string_view node, outbound&& out);

/// A remote pid that routes to `node`'s node process but names no process
/// there (creation 0, ID 0): what a monitor by name records as its target.
pid node_placeholder(std::string_view node);

/// node::run's start and end of distribution (lib/node.cpp). start throws
/// dist::start_error.
void start(otter::detail::node_state& st);
void stop(otter::detail::node_state& st) noexcept;

} // namespace otter::dist::detail
