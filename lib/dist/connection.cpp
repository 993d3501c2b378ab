#include "connection.hpp"

#include <chrono>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

#include <otter/blocking.hpp>
#include <otter/dist/codec.hpp>
#include <otter/dist/node.hpp>
#include <otter/dist/node_table.hpp>
#include <otter/logger.hpp>
#include <otter/net/tcp.hpp>
#include <otter/receive.hpp>
#include <otter/registry.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/timer.hpp>

#include "../logger.hpp"
#include "../scheduler.hpp"
#include "epmd.hpp"
#include "epmd_server.hpp"
#include "frame.hpp"
#include "handshake.hpp"

namespace otter::dist::detail {

using otter::detail::signal;
using clock = std::chrono::steady_clock;

namespace {

void log_node(node_report::event what, std::string node, std::string detail) noexcept {
  otter::detail::logger* log = otter::detail::current_logger();
  if (log == nullptr) return;
  try {
    node_report r;
    r.what = what;
    r.node = std::move(node);
    r.detail = std::move(detail);
    log->post(std::move(r));
  } catch (...) {
  }
}

void signal_local(const signal& sig) { otter::detail::send_signal(*otter::detail::tl_scheduler, sig); }

handshake_config config_of(const dist_node& d) {
  handshake_config c;
  c.our_name = d.name;
  c.our_creation = d.creation;
  c.cookie = d.cookie;
  c.hidden = d.opts.hidden;
  return c;
}

std::span<const std::byte> bytes_of(std::string_view s) noexcept {
  return std::as_bytes(std::span(s.data(), s.size()));
}

/// Runs a handshake over `s` until it is done or failed, or `deadline` passes.
task<bool> drive(handshake& hs, net::tcp_socket& s, clock::time_point deadline, std::string& why) {
  std::string out;
  hs.start(out);
  while (true) {
    if (!out.empty()) {
      auto sent = co_await s.send(out, std::chrono::seconds(5));
      if (!sent) {
        why = "writing the handshake: " + sent.error().message();
        co_return false;
      }
      out.clear();
    }
    if (hs.get_state() != handshake::state::in_progress) break;
    const auto left = deadline - clock::now();
    if (left <= clock::duration::zero()) {
      why = "the handshake timed out";
      co_return false;
    }
    auto got = co_await s.recv(std::chrono::duration_cast<std::chrono::nanoseconds>(left));
    if (!got) {
      why = got.error() == std::errc::timed_out ? "the handshake timed out"
                                                : "reading the handshake: " + got.error().message();
      co_return false;
    }
    if (got->empty()) {
      why = "the peer closed the connection during the handshake";
      co_return false;
    }
    hs.feed(bytes_of(*got), out);
    // The peer holds a connection to us that we no longer have (we restarted,
    // or it has not noticed ours went): ask it to replace that one.
    if (hs.alive_reply_needed()) hs.answer_alive(true, out);
  }
  if (hs.get_state() == handshake::state::failed) {
    why = hs.error();
    co_return false;
  }
  co_return true;
}

// ---------------------------------------------------------------- one connection

struct monitor_out {
  pid local;      // the monitoring process
  pid remote;     // what it monitors (null for a monitor by name)
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

  void came_up(const accepted& info) {
    index_ = intern_node(info.node, info.creation);
    p_->node_index.store(index_);
    p_->hidden.store(false);
    d_->routes[index_].store(p_->process.bits(), std::memory_order_release);
    reader_ = frame_reader(d_->opts.max_frame);
    p_->up.store(true);
    if (d_->opts.log_connections) log_node(node_report::event::up, p_->name, info.peer_address);
    d_->announce(p_->name, true, exit_reason::normal());
  }

  /// Whether `to` names the incarnation that is up (a pid of an earlier one is dead).
  bool current(pid to) const noexcept { return to.is_remote() && remote_parts(to).node == index_; }

  /// An outbound request while the connection is up; frames go to `out`.
  void write(outbound& o, std::string& out) {
    const local_node me = d_->local();
    switch (o.what) {
    case outbound::op::send:
      if (!current(o.to)) return;
      append_frame_encoded(out, term::tuple({term(ctrl::send), term::atom(""), term(o.to)}), o.encoded, me);
      return;
    case outbound::op::reg_send:
      append_frame_encoded(out,
                           term::tuple({term(ctrl::reg_send), term(o.from ? o.from : p_->process), term::atom(""),
                                        term::atom(o.name)}),
                           o.encoded, me);
      return;
    case outbound::op::link:
      if (!current(o.to)) {
        fail(o);
        return;
      }
      links_.insert({o.from.bits(), o.to.bits()});
      append_frame(out, term::tuple({term(ctrl::link), term(o.from), term(o.to)}), nullptr, me);
      return;
    case outbound::op::unlink:
      if (!current(o.to)) return;
      links_.erase({o.from.bits(), o.to.bits()});
      append_frame(out, term::tuple({term(ctrl::unlink_id), term(++unlink_id_), term(o.from), term(o.to)}), nullptr,
                   me);
      return;
    case outbound::op::link_exit:
      if (!current(o.to)) return;
      links_.erase({o.from.bits(), o.to.bits()});
      append_frame(out, term::tuple({term(ctrl::exit), term(o.from), term(o.to), to_term(o.reason)}), nullptr, me);
      return;
    case outbound::op::exit:
      if (!current(o.to)) return;
      append_frame(out, term::tuple({term(ctrl::exit2), term(o.from), term(o.to), to_term(o.reason)}), nullptr, me);
      return;
    case outbound::op::monitor:
      if (!current(o.to)) {
        fail(o);
        return;
      }
      monitors_out_[o.tag] = {o.from, o.to};
      append_frame(out,
                   term::tuple({term(ctrl::monitor_p), term(o.from), term(o.to), term::from_ref(o.tag, d_->self_index)}),
                   nullptr, me);
      return;
    case outbound::op::monitor_name:
      monitors_out_[o.tag] = {o.from, pid{}};
      append_frame(out,
                   term::tuple({term(ctrl::monitor_p), term(o.from), term::atom(o.name),
                                term::from_ref(o.tag, d_->self_index)}),
                   nullptr, me);
      return;
    case outbound::op::demonitor: {
      auto it = monitors_out_.find(o.tag);
      if (it == monitors_out_.end()) return;
      monitors_out_.erase(it);
      append_frame(out,
                   term::tuple({term(ctrl::demonitor_p), term(o.from), term(o.to),
                                term::from_ref(o.tag, d_->self_index)}),
                   nullptr, me);
      return;
    }
    case outbound::op::down: {
      auto it = monitors_in_.find(o.tag);
      if (it == monitors_in_.end()) return;
      const monitor_in m = std::move(it->second);
      monitors_in_.erase(it);
      by_erl_ref_.erase(to_string(m.erl_ref));
      append_frame(out, term::tuple({term(ctrl::monitor_p_exit), m.target, term(m.remote), m.erl_ref, to_term(o.reason)}),
                   nullptr, me);
      return;
    }
    case outbound::op::connect:
      if (o.from) send(o.from, connected{p_->name, true});
      return;
    case outbound::op::disconnect:
      return; // the caller (run) acts on it
    }
  }

  /// What a request that needs the connection gets when there is none.
  void fail(outbound& o) {
    switch (o.what) {
    case outbound::op::link:
      signal_local({signal::kind::link_exit, o.to, o.from, {}, exit_reason::noconnection()});
      break;
    case outbound::op::monitor:
    case outbound::op::monitor_name:
      signal_local({signal::kind::down, o.to, o.from, o.tag, exit_reason::noconnection()});
      break;
    case outbound::op::connect:
      if (o.from) send(o.from, connected{p_->name, false});
      break;
    default:
      break; // messages and the rest: dropped, as over a connection that is gone
    }
  }

  /// One frame from the peer. False (with `why`) for a malformed one.
  bool read(std::string_view body, std::string& out, std::string& why) {
    control_message m;
    if (!parse_frame(body, m, d_->local(), why)) return false;
    const term& c = m.control;
    auto pid_at = [&](std::size_t i, pid& p) {
      if (c.size() <= i || c[i].type() != term::kind::pid) return false;
      p = c[i].as_pid();
      return true;
    };
    pid from, to;
    switch (m.op) {
    case ctrl::send:
    case ctrl::send_tt:
    case ctrl::send_sender:
    case ctrl::send_sender_tt:
      if (!pid_at(2, to)) return malformed(c, why);
      if (!to.is_remote()) deliver(to, std::move(m.payload));
      return true;
    case ctrl::reg_send:
    case ctrl::reg_send_tt:
      if (c.size() < 4 || !c[3].is_atom()) return malformed(c, why);
      if (const pid p = whereis(c[3].atom_name())) deliver(p, std::move(m.payload));
      return true;
    case ctrl::link:
      if (!pid_at(1, from) || !pid_at(2, to)) return malformed(c, why);
      if (!from.is_remote() || to.is_remote()) return true;
      links_.insert({to.bits(), from.bits()});
      signal_local({signal::kind::link, from, to, {}, {}});
      return true;
    case ctrl::unlink:
      if (!pid_at(1, from) || !pid_at(2, to)) return malformed(c, why);
      links_.erase({to.bits(), from.bits()});
      signal_local({signal::kind::unlink, from, to, {}, {}});
      return true;
    case ctrl::unlink_id:
      if (!pid_at(2, from) || !pid_at(3, to)) return malformed(c, why);
      links_.erase({to.bits(), from.bits()});
      signal_local({signal::kind::unlink, from, to, {}, {}});
      append_frame(out, term::tuple({term(ctrl::unlink_id_ack), c[1], term(to), term(from)}), nullptr, d_->local());
      return true;
    case ctrl::unlink_id_ack:
      return true;
    case ctrl::exit:
    case ctrl::exit_tt:
    case ctrl::payload_exit:
    case ctrl::payload_exit_tt: {
      if (!pid_at(1, from) || !pid_at(2, to)) return malformed(c, why);
      const bool in_payload = m.op == ctrl::payload_exit || m.op == ctrl::payload_exit_tt;
      const std::size_t at = m.op == ctrl::exit ? 3 : 4;
      if (!in_payload && c.size() <= at) return malformed(c, why);
      links_.erase({to.bits(), from.bits()});
      signal_local({signal::kind::link_exit, from, to, {}, reason_of(in_payload ? m.payload : c[at])});
      return true;
    }
    case ctrl::exit2:
    case ctrl::exit2_tt:
    case ctrl::payload_exit2:
    case ctrl::payload_exit2_tt: {
      if (!pid_at(1, from) || !pid_at(2, to)) return malformed(c, why);
      const bool in_payload = m.op == ctrl::payload_exit2 || m.op == ctrl::payload_exit2_tt;
      const std::size_t at = m.op == ctrl::exit2 ? 3 : 4;
      if (!in_payload && c.size() <= at) return malformed(c, why);
      signal_local({signal::kind::exit, from, to, {}, reason_of(in_payload ? m.payload : c[at])});
      return true;
    }
    case ctrl::monitor_p: {
      if (!pid_at(1, from) || c.size() < 4 || c[3].type() != term::kind::reference) return malformed(c, why);
      pid target;
      if (c[2].type() == term::kind::pid) target = c[2].as_pid();
      else if (c[2].is_atom()) target = whereis(c[2].atom_name());
      else return malformed(c, why);
      if (!target || target.is_remote()) {
        append_frame(out, term::tuple({term(ctrl::monitor_p_exit), c[2], term(from), c[3], term::atom("noproc")}),
                     nullptr, d_->local());
        return true;
      }
      const ref proxy = otter::detail::tl_scheduler->next_ref();
      by_erl_ref_[to_string(c[3])] = proxy;
      monitors_in_[proxy] = {c[3], from, c[2]};
      monitor_target_[proxy] = target;
      signal_local({signal::kind::monitor, from, target, proxy, {}});
      return true;
    }
    case ctrl::demonitor_p: {
      if (c.size() < 4) return malformed(c, why);
      auto it = by_erl_ref_.find(to_string(c[3]));
      if (it == by_erl_ref_.end()) return true;
      const ref proxy = it->second;
      by_erl_ref_.erase(it);
      const monitor_in m2 = std::move(monitors_in_[proxy]);
      monitors_in_.erase(proxy);
      signal_local({signal::kind::demonitor, m2.remote, monitor_target_[proxy], proxy, {}});
      monitor_target_.erase(proxy);
      return true;
    }
    case ctrl::monitor_p_exit:
    case ctrl::payload_monitor_p_exit: {
      const bool in_payload = m.op == ctrl::payload_monitor_p_exit;
      if (!pid_at(2, to) || c.size() < (in_payload ? 4u : 5u) || c[3].type() != term::kind::reference)
        return malformed(c, why);
      const std::optional<ref> tag = term_ref_to_local(c[3].as_ref(), d_->self_index);
      if (!tag) return true;
      auto it = monitors_out_.find(*tag);
      if (it == monitors_out_.end()) return true;
      const monitor_out mo = it->second;
      monitors_out_.erase(it);
      signal_local({signal::kind::down, mo.remote, mo.local, *tag, reason_of(in_payload ? m.payload : c[4])});
      return true;
    }
    case ctrl::node_link:
    case ctrl::group_leader:
      return true; // no group leaders here: ignored
    default:
      // Operations otter does not advertise (spawn requests, aliases) or does not know.
      why = "control message " + std::to_string(m.op) + " is not one otter accepts: " + to_string(c);
      return false;
    }
  }

  /// The connection went: everything that crossed it learns so.
  void went_down(const exit_reason& why) {
    p_->up.store(false);
    for (const auto& [local, remote] : links_)
      signal_local({signal::kind::link_exit, pid::from_bits(remote), pid::from_bits(local), {},
                    exit_reason::noconnection()});
    links_.clear();
    for (const auto& [tag, m] : monitors_out_)
      signal_local({signal::kind::down, m.remote, m.local, tag, exit_reason::noconnection()});
    monitors_out_.clear();
    for (const auto& [proxy, m] : monitors_in_)
      signal_local({signal::kind::demonitor, m.remote, monitor_target_[proxy], proxy, {}});
    monitors_in_.clear();
    monitor_target_.clear();
    by_erl_ref_.clear();
    if (d_->opts.log_connections) log_node(node_report::event::down, p_->name, why.to_string());
    d_->announce(p_->name, false, why);
  }

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

  dist_node* d_;
  std::shared_ptr<peer> p_;
  std::uint16_t index_ = 0;
  std::int64_t unlink_id_ = 0;
  frame_reader reader_{64u << 20};
  std::set<std::pair<std::uint64_t, std::uint64_t>> links_; // (local, remote)
  std::unordered_map<ref, monitor_out> monitors_out_;
  std::unordered_map<ref, monitor_in> monitors_in_;
  std::unordered_map<ref, pid> monitor_target_;
  std::unordered_map<std::string, ref> by_erl_ref_;
};

/// Whether an outbound request asks for a connection (Erlang connects on first use).
bool needs_connection(const outbound& o) noexcept {
  switch (o.what) {
  case outbound::op::send:
  case outbound::op::reg_send:
  case outbound::op::link:
  case outbound::op::exit:
  case outbound::op::monitor:
  case outbound::op::monitor_name:
  case outbound::op::connect:
    return true;
  default:
    return false;
  }
}

/// The socket a handshake process gives away after `accepted`.
task<net::tcp_socket> take_socket(std::chrono::milliseconds limit) {
  net::tcp_socket s;
  co_await receive([&s](net::tcp_socket given) { s = std::move(given); }, after(limit, [] {}));
  co_return s;
}

/// Our attempt to connect to the peer: epmd, TCP, the handshake.
task<bool> connect_out(link_state& ls, net::tcp_socket& sock, accepted& info, std::string& why) {
  dist_node& d = ls.node();
  const std::string& peer_name = ls.name();
  const std::size_t at = peer_name.find('@');
  const std::string alive = peer_name.substr(0, at);
  const std::string host = peer_name.substr(at + 1);
  std::optional<net::address> epmd_at;
  if (host == d.host || host == "localhost")
    epmd_at = d.epmd;
  else {
    // Built before the co_await: g++ 12 mishandles a lambda that copies a string inside one (docs/gcc12.md).
    auto resolve = blocking([host, port = d.epmd.port()] { return epmd_address(host, port); });
    epmd_at = co_await resolve;
  }
  if (!epmd_at) {
    why = "cannot resolve the host " + host;
    co_return false;
  }
  auto found = co_await epmd_port_please(*epmd_at, alive);
  if (!found) {
    why = "asking epmd at " + epmd_at->to_string() + " for " + alive + ": " + found.error().message();
    co_return false;
  }
  const net::address to = epmd_at->with_port(found->port);
  auto s = co_await net::tcp_socket::connect(to, d.opts.setup_time);
  if (!s) {
    why = "connecting to " + to.to_string() + ": " + s.error().message();
    co_return false;
  }
  handshake hs = handshake::initiator(config_of(d), peer_name);
  const bool done = co_await drive(hs, *s, clock::now() + d.opts.setup_time, why);
  if (!done) {
    if (hs.refused_simultaneous()) {
      // The peer's own attempt wins: its connection arrives through our acceptor.
      std::optional<accepted> theirs;
      co_await receive([&theirs](accepted a) { theirs = std::move(a); }, after(d.opts.setup_time, [] {}));
      if (!theirs) {
        why = "a simultaneous connect whose other half never came";
        co_return false;
      }
      sock = co_await take_socket(d.opts.setup_time);
      if (!sock.is_open()) {
        why = "a simultaneous connect whose socket never came";
        co_return false;
      }
      info = std::move(*theirs);
      co_return true;
    }
    co_return false;
  }
  info.node = std::string(hs.peer_name());
  info.creation = hs.peer_creation();
  info.flags = hs.negotiated_flags();
  const auto left = hs.leftover();
  info.leftover.assign(reinterpret_cast<const char*>(left.data()), left.size());
  info.peer_address = s->peer_address().to_string();
  sock = std::move(*s);
  co_return true;
}

enum class event { none, out, data, closed, error, replaced, timeout };

/// The connection while it is up. Returns why it went down.
task<exit_reason> run_up(link_state& ls, net::tcp_socket& sock, accepted& info, std::vector<outbound>& pending,
                         std::optional<accepted>& replacement) {
  dist_node& d = ls.node();
  const auto tick = std::max<std::chrono::milliseconds>(d.opts.ticktime / 4, std::chrono::milliseconds(1));
  const std::uint64_t id = sock.id();
  std::string wbuf;
  std::string why;
  auto last_read = clock::now();
  auto last_write = last_read;
  bool dropped = false;

  for (outbound& o : pending) {
    if (o.what == outbound::op::disconnect) dropped = true;
    else ls.write(o, wbuf);
  }
  pending.clear();
  if (dropped) co_return exit_reason::custom("disconnect");

  auto on_frames = [&](std::string_view bytes) {
    frame_reader& r = ls.reader();
    r.append(bytes);
    std::string_view body;
    for (;;) {
      const frame_reader::status st = r.next(body);
      if (st == frame_reader::status::need_more) return true;
      if (st == frame_reader::status::error) {
        why = r.error();
        return false;
      }
      if (st == frame_reader::status::frame && !ls.read(body, wbuf, why)) return false;
    }
  };
  if (!info.leftover.empty() && !on_frames(info.leftover)) {
    log_node(node_report::event::refused, ls.name(), why);
    co_return exit_reason::custom("malformed_frame");
  }
  sock.set_active(net::active_mode::once());

  exit_reason down;
  bool going = true;
  outbound out_msg;
  std::string data;
  auto h_out = [&](outbound o) {
    out_msg = std::move(o);
    return event::out;
  };
  auto h_data = [&](net::tcp_data dd) {
    if (dd.socket != id) return event::none; // a socket of an earlier connection
    data = std::move(dd.bytes);
    return event::data;
  };
  auto h_closed = [&](net::tcp_closed c) { return c.socket == id ? event::closed : event::none; };
  auto h_error = [&](net::tcp_error e) {
    if (e.socket != id) return event::none;
    why = e.error.message();
    return event::error;
  };
  auto h_acc = [&](accepted a) {
    replacement = std::move(a);
    return event::replaced;
  };
  auto act = [&](event ev) {
    switch (ev) {
    case event::none:
    case event::timeout:
      break;
    case event::out:
      if (out_msg.what == outbound::op::disconnect) {
        down = exit_reason::custom("disconnect");
        going = false;
      } else {
        ls.write(out_msg, wbuf);
      }
      break;
    case event::data:
      last_read = clock::now();
      if (!on_frames(data)) {
        log_node(node_report::event::refused, ls.name(), why);
        down = exit_reason::custom("malformed_frame");
        going = false;
        break;
      }
      sock.set_active(net::active_mode::once());
      break;
    case event::closed:
      down = exit_reason::noconnection();
      going = false;
      break;
    case event::error:
      down = exit_reason::custom("connection_error");
      going = false;
      break;
    case event::replaced:
      down = exit_reason::noconnection(); // the peer restarted and connected anew
      going = false;
      break;
    }
  };

  while (going) {
    if (!wbuf.empty()) {
      auto sent = co_await sock.send(wbuf, d.opts.setup_time);
      if (!sent) {
        down = exit_reason::noconnection();
        break;
      }
      wbuf.clear();
      last_write = clock::now();
    }
    const auto now = clock::now();
    if (now - last_read > d.opts.ticktime) {
      down = exit_reason::custom("net_tick_timeout");
      break;
    }
    if (now - last_write >= tick) {
      append_tick(wbuf);
      continue;
    }
    const auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(tick - (now - last_write));
    event ev = co_await receive(h_out, h_data, h_closed, h_error, h_acc, after(wait, [] { return event::timeout; }));
    act(ev);
    // Take what else is queued, so that a burst goes out in one write.
    for (int i = 0; going && i < 256 && ev != event::timeout; ++i) {
      ev = co_await receive(h_out, h_data, h_closed, h_error, h_acc,
                            after(std::chrono::nanoseconds(0), [] { return event::timeout; }));
      act(ev);
    }
  }
  co_return down;
}

// ---------------------------------------------------------------- accepting

process handshake_process(dist_node* d) {
  net::tcp_socket s = co_await take_socket(d->opts.setup_time);
  if (!s.is_open()) co_return;
  const std::string from = s.peer_address().to_string();
  std::shared_ptr<peer> target;
  handshake hs = handshake::acceptor(config_of(*d), [d, &target](std::string_view name, std::uint32_t) {
    if (name == d->name) return status_reply::not_allowed;
    std::shared_ptr<peer> p = d->find_or_start(name);
    if (!p) return status_reply::not_allowed;
    target = p;
    if (p->up.load()) return status_reply::alive;
    if (p->pending.load()) return d->name > name ? status_reply::nok : status_reply::ok_simultaneous;
    return status_reply::ok;
  });
  std::string why;
  const bool done = co_await drive(hs, s, clock::now() + d->opts.setup_time, why);
  if (!done || !target) {
    if (!hs.refused_simultaneous() && d->opts.log_connections)
      log_node(node_report::event::refused, std::string(hs.get_state() == handshake::state::done ? hs.peer_name() : ""),
               "connection from " + from + ": " + why);
    co_return;
  }
  accepted a;
  a.node = std::string(hs.peer_name());
  a.creation = hs.peer_creation();
  a.flags = hs.negotiated_flags();
  const auto left = hs.leftover();
  a.leftover.assign(reinterpret_cast<const char*>(left.data()), left.size());
  a.peer_address = from;
  send(target->process, std::move(a));
  co_await net::give_away(std::move(s), target->process);
}

process acceptor_process(dist_node* d, net::tcp_listener listener) {
  for (;;) {
    auto s = co_await listener.accept();
    if (!s) {
      co_await sleep(std::chrono::milliseconds(50)); // out of descriptors: let some close
      continue;
    }
    const pid h = spawn(handshake_process, d);
    co_await net::give_away(std::move(*s), h);
  }
}

/// Answers net_adm:ping (`{'$gen_call', {Pid, Tag}, {is_auth, Node}}` → `{Tag, yes}`).
process net_kernel_process() {
  for (;;) {
    term t = co_await receive([](term m) { return m; });
    if (!t.is_tuple(3) || !t[0].is_atom("$gen_call") || !t[1].is_tuple(2) || t[1][0].type() != term::kind::pid) continue;
    const term& req = t[2];
    if (req.is_tuple(2) && req[0].is_atom("is_auth")) send(t[1][0].as_pid(), term::tuple({t[1][1], term::atom("yes")}));
  }
}

} // namespace

// ---------------------------------------------------------------- the node process

process node_process(dist_node* d, std::shared_ptr<peer> p) {
  link_state ls(d, p);
  std::vector<outbound> pending;
  std::optional<accepted> replacement;
  for (;;) {
    std::optional<accepted> acc = std::move(replacement);
    replacement.reset();
    net::tcp_socket sock;
    if (!acc) {
      std::optional<outbound> first;
      co_await receive([&first](outbound o) { first = std::move(o); }, [&acc](accepted a) { acc = std::move(a); });
      if (first) {
        if (!needs_connection(*first)) continue; // about a connection that is gone: nothing to do
        pending.push_back(std::move(*first));
      }
    }
    accepted info;
    if (acc) {
      sock = co_await take_socket(d->opts.setup_time);
      if (!sock.is_open()) continue;
      info = std::move(*acc);
    } else {
      p->pending.store(true);
      std::string why;
      const bool ok = co_await connect_out(ls, sock, info, why);
      p->pending.store(false);
      if (!ok) {
        if (d->opts.log_connections) log_node(node_report::event::failed, p->name, why);
        for (outbound& o : pending) ls.fail(o);
        pending.clear();
        // What queued meanwhile fails too; later requests try again.
        for (int i = 0; i < 100000; ++i) {
          std::optional<outbound> more;
          const bool got = co_await receive([&more](outbound o) {
            more = std::move(o);
            return true;
          }, after(std::chrono::nanoseconds(0), [] { return false; }));
          if (!got) break;
          ls.fail(*more);
        }
        d->announce(p->name, false, exit_reason::noconnection());
        continue;
      }
    }
    ls.came_up(info);
    const exit_reason why = co_await run_up(ls, sock, info, pending, replacement);
    sock.close();
    ls.went_down(why);
  }
}

// ---------------------------------------------------------------- boot

namespace {

process hold_registration(net::tcp_socket registration) {
  registration.set_active(net::active_mode::once());
  co_await receive([](net::tcp_closed) {}, [](net::tcp_error) {}, [](net::tcp_data) {});
  log_node(node_report::event::failed, "epmd", "the registration with epmd was lost (epmd stopped?)");
  for (;;) co_await receive([](outbound) {}); // nothing comes: stays until the run ends
}

} // namespace

process boot_process(dist_node* d, std::function<void(std::exception_ptr)> report) {
  std::exception_ptr failure;
  try {
    const std::optional<net::address> at = net::address::parse(d->opts.listen_address, d->opts.listen_port);
    if (!at) throw start_error("otter: distribution: listen_address \"" + d->opts.listen_address + "\" is not a numeric address");
    auto listener = net::tcp_listener::listen(*at);
    if (!listener)
      throw start_error("otter: distribution: cannot listen on " + at->to_string() + ": " + listener.error().message());
    d->listen_port = listener->local_address().port();

    if (d->opts.epmd == epmd_mode::serve) {
      auto served = start_epmd_server(net::address::any_v4(d->epmd.port()));
      if (!served)
        throw start_error("otter: distribution: cannot serve epmd on port " + std::to_string(d->epmd.port()) + ": " +
                          served.error().message());
    }
    auto reg = co_await epmd_register(d->epmd, d->alive, d->listen_port, d->opts.hidden);
    if (!reg && d->opts.epmd == epmd_mode::use_or_serve && reg.error() == std::errc::connection_refused) {
      // No epmd runs here: serve its protocol ourselves (another node may have started one meanwhile).
      (void)start_epmd_server(net::address::any_v4(d->epmd.port()));
      reg = co_await epmd_register(d->epmd, d->alive, d->listen_port, d->opts.hidden);
    }
    if (!reg)
      throw start_error("otter: distribution: registering " + d->name + " with epmd at " + d->epmd.to_string() + ": " +
                        reg.error().message());
    d->creation = reg->creation;
    d->self_index = intern_node(d->name, d->creation);
    if (d->self_index == 0xffff) throw start_error("otter: distribution: the node table is full");
    set_local_node_index(d->self_index); // what otter::ref's codec names this node

    spawn(acceptor_process, d, std::move(*listener));
    const pid nk = spawn(net_kernel_process);
    register_name("net_kernel", nk);
    spawn(hold_registration, std::move(reg->socket));
  } catch (...) {
    failure = std::current_exception();
  }
  report(failure);
}

} // namespace otter::dist::detail
