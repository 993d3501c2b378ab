#include "connection.hpp"

#include <chrono>
#include <vector>

#include <otter/blocking.hpp>
#include <otter/dist/node.hpp>
#include <otter/net/tcp.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/timer.hpp>

#include "../logger.hpp"
#include "../scheduler.hpp"
#include "epmd.hpp"
#include "frame.hpp"
#include "handshake.hpp"
#include "link_state.hpp"

namespace otter::dist::detail {

using otter::detail::signal;
using clock = std::chrono::steady_clock;

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
  c.flags |= dflag::spawn; // SPAWN_REQUEST / SPAWN_REPLY (dist::spawn_request)
  return c;
}

namespace {

std::span<const std::byte> bytes_of(std::string_view s) noexcept {
  return std::as_bytes(std::span(s.data(), s.size()));
}

/// Whether our attempt to `p` gives way to the peer's, which we let through.
bool yielded(peer* p) {
  if (p == nullptr) return false;
  std::lock_guard lock(p->mutex);
  return p->yielded;
}

} // namespace

/// Runs a handshake over `s` until it is done or failed, or `deadline` passes.
task<bool> drive(handshake& hs, net::tcp_socket& s, clock::time_point deadline, std::string& why, peer* p) {
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
    // Unless the peer's own attempt, which we let through, is that connection.
    if (hs.alive_reply_needed()) hs.answer_alive(!yielded(p), out);
  }
  if (hs.get_state() == handshake::state::failed) {
    why = hs.error();
    co_return false;
  }
  co_return true;
}

task<net::tcp_socket> take_socket(std::chrono::milliseconds limit) {
  net::tcp_socket s;
  co_await receive([&s](net::tcp_socket given) { s = std::move(given); }, after(limit, [] {}));
  co_return s;
}

namespace {

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
  case outbound::op::spawn_request:
    return true;
  default:
    return false;
  }
}

/// Waits for the connection a handshake process accepted from the peer.
task<bool> await_accepted(dist_node& d, net::tcp_socket& sock, accepted& info, std::string& why) {
  std::optional<accepted> theirs;
  bool failed = false;
  co_await receive([&theirs](accepted a) { theirs = std::move(a); }, [&failed](accept_failed) { failed = true; },
                   after(d.opts.setup_time, [] {}));
  if (!theirs) {
    why = failed ? "the peer's own connection attempt failed" : "the peer's own connection attempt never completed";
    co_return false;
  }
  sock = co_await take_socket(d.opts.setup_time);
  if (!sock.is_open()) {
    why = "the peer's accepted connection never came";
    co_return false;
  }
  info = std::move(*theirs);
  co_return true;
}

/// Our attempt to connect to the peer: epmd, TCP, the handshake. `refused`:
/// the peer answered nok (its own attempt wins).
task<bool> dial(link_state& ls, net::tcp_socket& sock, accepted& info, std::string& why, bool& refused) {
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
  // The peer's own attempt got through meanwhile: its connection is the one.
  if (yielded(&ls.the_peer())) co_return false;
  const net::address to = epmd_at->with_port(found->port);
  auto s = co_await net::tcp_socket::connect(to, d.opts.setup_time);
  if (!s) {
    why = "connecting to " + to.to_string() + ": " + s.error().message();
    co_return false;
  }
  handshake hs = handshake::initiator(config_of(d), peer_name);
  const bool done = co_await drive(hs, *s, clock::now() + d.opts.setup_time, why, &ls.the_peer());
  if (!done) {
    refused = hs.refused_simultaneous();
    co_return false;
  }
  info.node = std::string(hs.peer_name());
  info.creation = hs.peer_creation();
  info.flags = hs.negotiated_flags();
  info.peer_flags = hs.peer_flags();
  const auto left = hs.leftover();
  info.leftover.assign(reinterpret_cast<const char*>(left.data()), left.size());
  info.peer_address = s->peer_address().to_string();
  sock = std::move(*s);
  co_return true;
}

/// Connects to the peer, or takes the peer's own connection when its
/// simultaneous attempt wins (it said nok to ours, or we let its attempt
/// through): that one arrives through our acceptor.
task<bool> connect_out(link_state& ls, net::tcp_socket& sock, accepted& info, std::string& why) {
  bool refused = false;
  const bool ok = co_await dial(ls, sock, info, why, refused);
  if (ok) co_return true;
  if (refused || yielded(&ls.the_peer())) co_return co_await await_accepted(ls.node(), sock, info, why);
  co_return false;
}

enum class event { none, out, queued, data, closed, error, replaced, timeout };

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
  net::socket_options so;
  so.nodelay = true; // small messages go out at once, as Erlang's distribution does
  (void)sock.set_options(so);
  sock.set_active(net::active_mode::once());

  exit_reason down;
  bool going = true;
  outbound out_msg;
  std::string data;
  auto h_out = [&](outbound o) {
    out_msg = std::move(o);
    return event::out;
  };
  auto h_drain = [](drain) { return event::queued; };
  std::vector<outbound> items;
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
  auto h_acc_failed = [](accept_failed) { return event::none; }; // a replacement that did not come
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
    case event::queued:
      take_outboxes(ls.the_peer(), items);
      for (outbound& o : items) {
        if (o.what == outbound::op::disconnect) {
          down = exit_reason::custom("disconnect");
          going = false;
          break;
        }
        ls.write(o, wbuf);
      }
      items.clear();
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
    event ev = co_await receive(h_out, h_drain, h_data, h_closed, h_error, h_acc, h_acc_failed,
                                after(wait, [] { return event::timeout; }));
    act(ev);
    // Take what else is queued, so that a burst goes out in one write.
    for (int i = 0; going && i < 256 && ev != event::timeout; ++i) {
      ev = co_await receive(h_out, h_drain, h_data, h_closed, h_error, h_acc, h_acc_failed,
                            after(std::chrono::nanoseconds(0), [] { return event::timeout; }));
      act(ev);
    }
  }
  co_return down;
}

} // namespace

// ---------------------------------------------------------------- the node process

process node_process(dist_node* d, std::shared_ptr<peer> p) {
  link_state ls(d, p);
  std::vector<outbound> pending;
  std::optional<accepted> replacement;
  // Sets the marks of who sets the connection up after an attempt, and `up`
  // with them, so that no handshake process sees the peer idle in between.
  auto settle = [&p](bool up) {
    std::lock_guard lock(p->mutex);
    p->pending.store(false);
    p->accepting = false;
    p->yielded = false;
    if (up) p->up.store(true);
  };
  for (;;) {
    std::optional<accepted> acc = std::move(replacement);
    replacement.reset();
    net::tcp_socket sock;
    if (!acc) {
      std::optional<outbound> first;
      bool queued = false;
      co_await receive([&first](outbound o) { first = std::move(o); }, [&acc](accepted a) { acc = std::move(a); },
                       [&queued](drain) { queued = true; }, [](accept_failed) {});
      if (first && needs_connection(*first)) pending.push_back(std::move(*first));
      if (queued) {
        std::vector<outbound> items;
        take_outboxes(*p, items);
        for (outbound& o : items)
          if (needs_connection(o)) pending.push_back(std::move(o));
      }
      // Only what is about a connection that is gone: nothing to do.
      if (!acc && pending.empty()) continue;
    }
    accepted info;
    if (acc) {
      sock = co_await take_socket(d->opts.setup_time);
      if (!sock.is_open()) {
        settle(false);
        continue;
      }
      info = std::move(*acc);
    } else {
      // The peer's attempt was let through already: wait for it instead of dialing.
      bool join = false;
      {
        std::lock_guard lock(p->mutex);
        join = p->accepting;
        if (!join) {
          p->pending.store(true);
          p->yielded = false;
        }
      }
      std::string why;
      bool ok = false;
      if (join)
        ok = co_await await_accepted(*d, sock, info, why);
      else
        ok = co_await connect_out(ls, sock, info, why);
      if (!ok) {
        settle(false);
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
        std::vector<outbound> items;
        take_outboxes(*p, items);
        for (outbound& o : items) ls.fail(o);
        d->announce(p->name, false, exit_reason::noconnection());
        continue;
      }
    }
    settle(true);
    ls.came_up(info);
    const exit_reason why = co_await run_up(ls, sock, info, pending, replacement);
    sock.close();
    ls.went_down(why);
  }
}

} // namespace otter::dist::detail
