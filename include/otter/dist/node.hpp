#pragma once
// otter::dist — this node in a cluster of otter, Erlang and Elixir nodes.

#include <otter/detail/config.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <otter/dist/codec.hpp>
#include <otter/dist/options.hpp>
#include <otter/dist/term.hpp>
#include <otter/exit_reason.hpp>
#include <otter/pid.hpp>
#include <otter/ref.hpp>
#include <otter/result.hpp>
#include <otter/task.hpp>

namespace otter::dist {

/// Distribution could not start (node::run throws it before the first process runs).
class start_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// This node's name, `app@host`; `nonode@nohost` when it is not distributed.
std::string this_node();
/// True while the node is distributed (node_options::distribution.name was set and run() is running).
bool alive();
/// The node's creation (from epmd): pids of an earlier run of the same name differ by it.
std::uint32_t creation();

/// The name of the node that `p` lives on (this_node() for a local pid).
std::string node_of(pid p);

/// The nodes connected now (visible ones; with `hidden`, the hidden ones too).
std::vector<std::string> nodes(bool hidden = false);

/// Connects to `node` unless it is connected, and waits until the connection is
/// up (true) or has failed (false). Sending, linking or monitoring connects too.
task<bool> connect(std::string node);

/// Erlang's net_adm:ping: true (pong) if `node` answers within `timeout`.
task<bool> ping(std::string node, std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// Drops the connection to `node` (links and monitors across it get noconnection).
void disconnect(std::string_view node);

/// `{nodeup, Node}` / `{nodedown, Node}`.
struct nodeup {
  std::string node;
};
struct nodedown {
  std::string node;
  exit_reason reason; ///< why the connection went (noconnection, net_tick_timeout as custom...)
};

/// Erlang's monitor_node: the caller receives a nodedown when the connection to
/// `node` goes, or at once if it cannot be made (the call connects). `false`
/// removes one such monitor.
void monitor_node(std::string_view node, bool on = true);
/// net_kernel:monitor_nodes: nodeup and nodedown for every node.
void monitor_nodes(bool on = true);

/// Options of spawn_request.
struct spawn_request_options {
  /// Link the new process to the caller from its start (Erlang's `link`
  /// option): its exit reaches the caller as a link's exit signal.
  bool link = false;
  /// How long to wait for the peer's answer.
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
};

/// Erlang's spawn_request(Node, Module, Function, Args): starts
/// `module:function(Args...)` on `node` (`args` a proper list of terms) and
/// returns the new process's pid. Fails with `noconnection` (the node cannot be
/// reached, or went down before answering), `timeout`, `badarg` (`args` is not
/// a proper list, or `node` is this node), or the peer's reason as
/// `exit_reason::custom` (`badarg`, `system_limit`; `notsup` from a node that
/// cannot spawn). The new process's group leader is this node's net_kernel,
/// which writes what it prints (`io:format`) to this process's stdout.
task<result<pid>> spawn_request(std::string node, std::string module, std::string function, term args,
                                spawn_request_options options = {});

/// A process registered as `name` on `node`: Erlang's `{Name, Node}`.
struct remote_name {
  std::string name;
  std::string node;
};

namespace detail {
void send_term(const remote_name& to, term&& message);
ref monitor_remote(const remote_name& target);
} // namespace detail

} // namespace otter::dist

namespace otter {

/// Sends `message` to the process registered as `to.name` on `to.node`
/// (Erlang's `{Name, Node} ! Msg`), connecting first if need be. The message
/// crosses as an Erlang term: its type needs a term codec (otter/dist/codec.hpp).
/// Dropped if the node cannot be reached or has no such process.
template <class T>
void send(const dist::remote_name& to, T&& message) {
  static_assert(has_term_codec<std::decay_t<T>>,
                "otter::send to a remote node: the message type has no term codec; give it "
                "`static constexpr auto term_fields = otter::term_tuple(...)`, a to_term/from_term "
                "pair or an otter::codec specialisation (otter/dist/codec.hpp)");
  dist::detail::send_term(to, otter::to_term(static_cast<const std::decay_t<T>&>(message)));
}

/// Monitors the process registered as `target.name` on `target.node`: a
/// down_message with reason noproc if there is none, noconnection if the node
/// cannot be reached, or the process's exit reason.
inline ref monitor(const dist::remote_name& target) { return dist::detail::monitor_remote(target); }

} // namespace otter
