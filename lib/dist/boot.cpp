#include "connection.hpp"

#include <cerrno>
#include <chrono>
#include <optional>

#include <unistd.h>

#include <otter/dist/node.hpp>
#include <otter/dist/node_table.hpp>
#include <otter/net/tcp.hpp>
#include <otter/receive.hpp>
#include <otter/registry.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/timer.hpp>

#include "epmd.hpp"
#include "epmd_server.hpp"
#include "handshake.hpp"

namespace otter::dist::detail {

using clock = std::chrono::steady_clock;

namespace {

process handshake_process(dist_node* d) {
  net::tcp_socket s = co_await take_socket(d->opts.setup_time);
  if (!s.is_open()) co_return;
  const std::string from = s.peer_address().to_string();
  std::shared_ptr<peer> target;
  std::string refusal; // why decide said not_allowed
  bool said_nok = false; // a simultaneous attempt of ours wins: no refusal to log
  handshake hs = handshake::acceptor(config_of(*d), [d, &target, &refusal, &said_nok](std::string_view name,
                                                                                     std::uint32_t) {
    if (name == d->name) {
      refusal = "it has this node's own name";
      return status_reply::not_allowed;
    }
    if (!peer_name_fits(*d, name, &refusal)) return status_reply::not_allowed;
    std::shared_ptr<peer> p = d->find_or_start(name);
    if (!p) {
      refusal = "its name is not a node name";
      return status_reply::not_allowed;
    }
    std::lock_guard lock(p->mutex);
    if (p->accepting) {
      refusal = "another connection from that node is being set up";
      return status_reply::nok;
    }
    if (p->up.load()) {
      target = p;
      p->accepting = true; // until it answers whether to replace the connection
      return status_reply::alive;
    }
    if (p->pending.load()) {
      // Both dial at once: the greater name's attempt goes through (OTP's rule).
      if (d->name > name) {
        said_nok = true;
        return status_reply::nok;
      }
      target = p;
      p->yielded = true;
      return status_reply::ok_simultaneous;
    }
    target = p;
    p->accepting = true;
    return status_reply::ok;
  });
  std::string why;
  const bool done = co_await drive(hs, s, clock::now() + d->opts.setup_time, why);
  if (!done || !target) {
    if (target) {
      // What was let through did not come: the node process may dial again.
      {
        std::lock_guard lock(target->mutex);
        target->accepting = false;
      }
      accept_failed f;
      f.node = target->name;
      send(target->process, std::move(f));
    }
    if (!refusal.empty()) why += " (" + refusal + ")";
    if (!said_nok && d->opts.log_connections)
      log_node(node_report::event::refused, std::string(hs.peer_name()), "connection from " + from + ": " + why);
    co_return;
  }
  accepted a;
  a.node = std::string(hs.peer_name());
  a.creation = hs.peer_creation();
  a.flags = hs.negotiated_flags();
  a.peer_flags = hs.peer_flags();
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

/// Appends chardata (a binary, or a deep list of code points and binaries) as
/// UTF-8; false if `t` is not chardata.
bool append_chars(const term& t, std::string& out, int depth = 0) {
  if (t.is_binary()) {
    out += t.binary_bytes();
    return true;
  }
  if (!t.is_proper_list() || depth > 100) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const term& e = t[i];
    const std::optional<std::int64_t> c = e.is_integer() ? e.to_int64() : std::nullopt;
    if (!c) {
      if (!append_chars(e, out, depth + 1)) return false;
    } else if (*c < 0 || *c > 0x10ffff) {
      return false;
    } else if (*c < 0x80) {
      out += static_cast<char>(*c);
    } else if (*c < 0x800) {
      out += static_cast<char>(0xc0 | (*c >> 6));
      out += static_cast<char>(0x80 | (*c & 0x3f));
    } else if (*c < 0x10000) {
      out += static_cast<char>(0xe0 | (*c >> 12));
      out += static_cast<char>(0x80 | ((*c >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (*c & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (*c >> 18));
      out += static_cast<char>(0x80 | ((*c >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((*c >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (*c & 0x3f));
    }
  }
  return true;
}

/// The answer to an io request from a process spawned here by
/// dist::spawn_request (whose group leader net_kernel is): put_chars of
/// characters are written to stdout; the rest (formatting, input) is not
/// supported.
term io_answer(const term& request) {
  std::string chars;
  const bool put = request.is_tuple() && request.size() >= 2 && request[0].is_atom("put_chars") &&
                   append_chars(request[request.size() - 1], chars) && (request.size() == 2 || request.size() == 3);
  if (!put) return term::tuple({term::atom("error"), term::atom("enotsup")});
  std::size_t done = 0;
  while (done < chars.size()) {
    const ssize_t n = ::write(1, chars.data() + done, chars.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  return term::atom("ok");
}

/// Answers net_adm:ping (`{'$gen_call', {Pid, Tag}, {is_auth, Node}}` → `{Tag, yes}`),
/// and io requests as group leader of the processes dist::spawn_request starts.
process net_kernel_process() {
  for (;;) {
    term t = co_await receive([](term m) { return m; });
    if (t.is_tuple(4) && t[0].is_atom("io_request") && t[1].type() == term::kind::pid) {
      send(t[1].as_pid(), term::tuple({term::atom("io_reply"), t[2], io_answer(t[3])}));
      continue;
    }
    if (!t.is_tuple(3) || !t[0].is_atom("$gen_call") || !t[1].is_tuple(2) || t[1][0].type() != term::kind::pid) continue;
    const term& req = t[2];
    if (req.is_tuple(2) && req[0].is_atom("is_auth")) send(t[1][0].as_pid(), term::tuple({t[1][1], term::atom("yes")}));
  }
}

/// How often a node whose epmd registration was lost tries to register again.
constexpr std::chrono::seconds reregister_every{2};

/// Keeps the epmd registration open for the run. When epmd goes (its socket
/// closes), registers again every few seconds until an epmd takes it; in
/// use_or_serve mode it serves epmd itself if none answers. The node keeps
/// its creation: the one the new registration gives is not adopted, so the
/// pids and refs minted before stay valid.
process hold_registration(dist_node* d, net::tcp_socket registration) {
  const std::string at = d->epmd.to_string();
  for (;;) {
    bool lost = false;
    while (!lost) {
      registration.set_active(net::active_mode::once());
      co_await receive([&lost](net::tcp_closed) { lost = true; }, [&lost](net::tcp_error) { lost = true; },
                       [](net::tcp_data) {}); // epmd says nothing after its answer: ignored
    }
    registration.close();
    log_node(node_report::event::epmd, d->name,
             "registration with epmd at " + at + " lost (epmd stopped?); registering again every " +
                 std::to_string(reregister_every.count()) + " s");
    for (;;) { // until it succeeds: the node is not found by new peers meanwhile
      co_await sleep(reregister_every);
      auto reg = co_await epmd_register(d->epmd, d->alive, d->listen_port, d->opts.hidden);
      if (!reg && d->opts.epmd == epmd_mode::use_or_serve && reg.error() == std::errc::connection_refused) {
        // Still no epmd: serve its protocol here, as at boot.
        (void)start_epmd_server(net::address::any_v4(d->epmd.port()));
        reg = co_await epmd_register(d->epmd, d->alive, d->listen_port, d->opts.hidden);
      }
      if (!reg) continue;
      registration = std::move(reg->socket);
      log_node(node_report::event::epmd, d->name,
               "registered with epmd at " + at + " again (keeping creation " + std::to_string(d->creation) +
                   "; epmd gave " + std::to_string(reg->creation) + ")");
      break;
    }
  }
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
    spawn(hold_registration, d, std::move(reg->socket));
  } catch (...) {
    failure = std::current_exception();
  }
  report(failure);
}

} // namespace otter::dist::detail
