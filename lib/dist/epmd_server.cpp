// The epmd server: an acceptor process and one linked process per client,
// sharing a registry on the acceptor's core.
#include "epmd_server.hpp"

#include <cerrno>
#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include <arpa/inet.h>

#include <otter/link.hpp>
#include <otter/net/tcp.hpp>
#include <otter/process.hpp>
#include <otter/spawn.hpp>

#include "epmd_wire.hpp"

namespace otter::dist {

namespace {

// Client processes run on the acceptor's core, one at a time, but a mutex keeps
// the registry safe whichever core a scheduler change puts them on.
struct shared_registry {
  std::mutex mutex;
  epmd_registry registry;
  explicit shared_registry(std::uint32_t first) : registry(first) {}
};

// A client has this long to send its request.
constexpr auto request_timeout = std::chrono::seconds(10);
constexpr std::size_t max_request = 2 + 65535;

bool is_loopback(const net::address& a) {
  const auto* sa = a.data();
  if (sa->sa_family == AF_INET)
    return (ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr) >> 24) == 127;
  if (sa->sa_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

// Holds a registration while the node's socket is open; bytes the node sends
// meanwhile are read and dropped.
task<void> hold_registration(net::tcp_socket& s) {
  char buf[512];
  for (;;) {
    auto n = co_await s.recv(std::span<char>(buf));
    if (!n || *n == 0) co_return;
  }
}

process serve_client(net::tcp_socket s, std::shared_ptr<shared_registry> shared, std::uint16_t epmd_port) {
  std::string buf;
  epmd_request req;
  std::size_t used = 0;
  const auto deadline = std::chrono::steady_clock::now() + request_timeout;
  for (;;) {
    const auto st = parse_epmd_request(buf, req, used);
    if (st == parse_status::bad) co_return; // closes this client only
    if (st == parse_status::ok) break;
    const auto rest = deadline - std::chrono::steady_clock::now();
    if (rest <= std::chrono::nanoseconds(0) || buf.size() > max_request) co_return;
    auto got = co_await s.recv(std::chrono::duration_cast<std::chrono::nanoseconds>(rest));
    if (!got || got->empty()) co_return;
    buf += *got;
  }
  switch (req.type) {
  case epmd_request::kind::alive2: {
    if (!is_loopback(s.peer_address())) co_return;
    std::optional<std::uint32_t> creation;
    {
      std::lock_guard lock(shared->mutex);
      creation = shared->registry.add(req.node);
    }
    const std::string reply = encode_alive2_reply(req.node, creation ? 0 : 1, creation.value_or(0));
    auto sent = co_await s.send(reply);
    if (creation) {
      if (sent) co_await hold_registration(s);
      std::lock_guard lock(shared->mutex);
      shared->registry.remove(req.node.name);
    }
    co_return;
  }
  case epmd_request::kind::port_please2: {
    std::string reply;
    {
      std::lock_guard lock(shared->mutex);
      reply = encode_port2_reply(shared->registry.find(req.name));
    }
    co_await s.send(reply);
    co_return;
  }
  case epmd_request::kind::names: {
    std::string reply;
    {
      std::lock_guard lock(shared->mutex);
      reply = encode_names_reply(epmd_port, shared->registry.names());
    }
    co_await s.send(reply);
    co_return;
  }
  }
}

process accept_clients(net::tcp_listener listener, std::shared_ptr<shared_registry> shared) {
  const std::uint16_t port = listener.local_address().port();
  for (;;) {
    auto c = co_await listener.accept();
    if (!c) {
      // Out of descriptors or memory, or an aborted connection: the listener goes
      // on. Anything else means it is gone.
      const int e = c.error().value();
      if (e == EMFILE || e == ENFILE || e == ECONNABORTED || e == ENOBUFS || e == ENOMEM) continue;
      co_return;
    }
    spawn_link(serve_client, std::move(c.value()), shared, port);
  }
}

} // namespace

io_result<epmd_server> start_epmd_server(net::address bind) {
  auto l = net::tcp_listener::listen(bind);
  if (!l) return l.error();
  const net::address at = l->local_address();
  // Creations start at a random point so that a restarted server does not hand
  // a new incarnation the creation of an old one.
  std::random_device rd;
  const std::uint32_t first = 4 + static_cast<std::uint32_t>(rd() % (std::uint32_t{1} << 30));
  const pid p = spawn(accept_clients, std::move(l.value()), std::make_shared<shared_registry>(first));
  return epmd_server{p, at};
}

} // namespace otter::dist
