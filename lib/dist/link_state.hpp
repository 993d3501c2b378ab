#pragma once
// One connection's state while it is up: what each outbound request becomes
// on the wire, what each arriving control message does here, and the links
// and monitors that cross, which learn `noconnection` when it goes.

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include <otter/dist/codec.hpp>
#include <otter/dist/node_table.hpp>

#include "../scheduler.hpp"
#include "connection.hpp"
#include "frame.hpp"
#include "runtime.hpp"

namespace otter::dist::detail {

struct monitor_out {
  pid local;        // the monitoring process
  pid remote;       // what it monitors (null for a monitor by name)
  std::string name; // the registered name it monitors, for a monitor by name
};

struct spawn_pending {
  pid from;  // who asked
  bool link; // link it to the new process when it comes
};

struct monitor_in {
  term erl_ref;   // the peer's reference
  pid remote;     // the monitoring process on the peer
  term target;    // what it named: our pid, or a registered name's atom
};

/// The state a node process keeps while its connection is up, and what it
/// does with each outbound request and each arriving frame.
class link_state {
public:
  link_state(dist_node* d, std::shared_ptr<peer> p) : d_(d), p_(std::move(p)) {}

  const std::string& name() const noexcept { return p_->name; }
  dist_node& node() noexcept { return *d_; }
  peer& the_peer() noexcept { return *p_; }

  void came_up(const accepted& info);

  /// Whether `to` names the incarnation that is up (a pid of an earlier one is dead).
  bool current(pid to) const noexcept { return to.is_remote() && remote_parts(to).node == index_; }

  /// An outbound request while the connection is up; frames go to `out`.
  void write(outbound& o, std::string& out);

  /// What a request that needs the connection gets when there is none.
  void fail(outbound& o);

  /// One frame from the peer. False (with `why`) for a malformed one.
  bool read(std::string_view body, std::string& out, std::string& why);

  /// The connection went: everything that crossed it learns so.
  void went_down(const exit_reason& why);

  frame_reader& reader() noexcept { return reader_; }

private:
  static bool malformed(const term& c, std::string& why) {
    why = "a malformed control message: " + to_string(c);
    return false;
  }
  static exit_reason reason_of(const term& t) {
    exit_reason r;
    if (!from_term(t, r)) r = exit_reason::custom(to_string(t));
    return r;
  }
  void deliver(pid to, term&& message) {
    otter::detail::tl_scheduler->deliver(to, otter::detail::make_message<term>(std::move(message)));
  }
  void deliver_answer(pid to, spawn_answer&& a) {
    otter::detail::tl_scheduler->deliver(to, otter::detail::make_message<spawn_answer>(std::move(a)));
  }

  dist_node* d_;
  std::shared_ptr<peer> p_;
  std::uint16_t index_ = 0;
  std::int64_t unlink_id_ = 0;
  pid send_to_;               // the last send's target, and
  std::string send_control_;  // its encoded control message
  frame_reader reader_{64u << 20};
  std::set<std::pair<std::uint64_t, std::uint64_t>> links_; // (local, remote)
  std::unordered_map<ref, monitor_out> monitors_out_;
  std::unordered_map<ref, monitor_in> monitors_in_;
  std::unordered_map<ref, pid> monitor_target_;
  std::unordered_map<std::string, ref> by_erl_ref_;
  std::unordered_map<ref, spawn_pending> spawns_;
};

} // namespace otter::dist::detail
