// epmd clients on otter's tcp sockets: one connection per request, one overall deadline.
#include "epmd.hpp"

#include <charconv>
#include <cstdlib>
#include <string>

#include <netdb.h>

namespace otter::dist {

namespace {

using clock = std::chrono::steady_clock;

class epmd_category_impl : public std::error_category {
public:
  const char* name() const noexcept override { return "epmd"; }
  std::string message(int e) const override {
    switch (static_cast<epmd_errc>(e)) {
    case epmd_errc::not_registered: return "epmd: no such node is registered";
    case epmd_errc::name_taken: return "epmd: the node name is registered already";
    case epmd_errc::bad_response: return "epmd: malformed response";
    case epmd_errc::closed: return "epmd: connection closed before the response";
    }
    return "epmd: unknown error";
  }
};

// Time left before `deadline` (at least 1 ns, so that a spent budget times out
// rather than meaning "no timeout").
std::chrono::nanoseconds left(clock::time_point deadline) {
  const auto d = deadline - clock::now();
  return d > std::chrono::nanoseconds(1) ? std::chrono::duration_cast<std::chrono::nanoseconds>(d)
                                         : std::chrono::nanoseconds(1);
}

clock::time_point deadline_after(std::chrono::nanoseconds timeout) {
  if (timeout >= std::chrono::hours(24 * 365)) return clock::time_point::max();
  return clock::now() + timeout;
}

// Connects and sends `request`.
task<io_result<net::tcp_socket>> open_and_send(const net::address& epmd, std::string request,
                                               clock::time_point deadline) {
  auto s = co_await net::tcp_socket::connect(epmd, left(deadline));
  if (!s) co_return s.error();
  auto sent = co_await s->send(request, left(deadline));
  if (!sent) co_return sent.error();
  co_return std::move(s.value());
}

// Reads more of the reply into `buf`; false with `err` set at EOF or error.
task<bool> read_more(net::tcp_socket& s, std::string& buf, clock::time_point deadline, std::error_code& err) {
  auto got = co_await s.recv(left(deadline));
  if (!got) {
    err = got.error();
    co_return false;
  }
  if (got->empty()) {
    err = epmd_errc::closed;
    co_return false;
  }
  buf += *got;
  co_return true;
}

} // namespace

const std::error_category& epmd_category() noexcept {
  static const epmd_category_impl c;
  return c;
}

std::error_code make_error_code(epmd_errc e) noexcept { return {static_cast<int>(e), epmd_category()}; }

task<io_result<epmd_registration>> epmd_register(net::address epmd, std::string_view alive, std::uint16_t port,
                                                 bool hidden, std::chrono::nanoseconds timeout) {
  const auto deadline = deadline_after(timeout);
  epmd_node me;
  me.name = std::string(alive);
  me.port = port;
  me.node_type = hidden ? 72 : 77;
  me.highest = 6;
  me.lowest = 5;
  auto s = co_await open_and_send(epmd, encode_alive2_req(me), deadline);
  if (!s) co_return s.error();
  std::string buf;
  for (;;) {
    alive2_reply r;
    std::size_t used = 0;
    const auto st = parse_alive2_reply(buf, r, used);
    if (st == parse_status::bad || buf.size() > 64) co_return make_error_code(epmd_errc::bad_response);
    if (st == parse_status::ok) {
      if (r.result != 0) co_return make_error_code(epmd_errc::name_taken);
      if (r.creation == 0) co_return make_error_code(epmd_errc::bad_response);
      co_return epmd_registration{std::move(s.value()), r.creation};
    }
    std::error_code err;
    const bool more = co_await read_more(*s, buf, deadline, err);
    if (!more) co_return err;
  }
}

task<io_result<epmd_node>> epmd_port_please(net::address epmd, std::string_view alive,
                                            std::chrono::nanoseconds timeout) {
  const auto deadline = deadline_after(timeout);
  auto s = co_await open_and_send(epmd, encode_port_please2_req(alive), deadline);
  if (!s) co_return s.error();
  std::string buf;
  for (;;) {
    port2_reply r;
    std::size_t used = 0;
    const auto st = parse_port2_reply(buf, r, used);
    if (st == parse_status::bad || buf.size() > 4096) co_return make_error_code(epmd_errc::bad_response);
    if (st == parse_status::ok) {
      if (r.result != 0) co_return make_error_code(epmd_errc::not_registered);
      co_return std::move(r.node);
    }
    std::error_code err;
    const bool more = co_await read_more(*s, buf, deadline, err);
    if (!more) co_return err;
  }
}

task<io_result<std::vector<epmd_name>>> epmd_names(net::address epmd, std::chrono::nanoseconds timeout) {
  const auto deadline = deadline_after(timeout);
  auto s = co_await open_and_send(epmd, encode_names_req(), deadline);
  if (!s) co_return s.error();
  // The reply ends when epmd closes the connection; bounded at 1 MiB.
  std::string buf;
  for (;;) {
    std::error_code err;
    const bool more = co_await read_more(*s, buf, deadline, err);
    if (!more) {
      if (err != make_error_code(epmd_errc::closed)) co_return err;
      break;
    }
    if (buf.size() > (std::size_t{1} << 20)) co_return make_error_code(epmd_errc::bad_response);
  }
  auto names = parse_names_reply(buf);
  if (!names) co_return make_error_code(epmd_errc::bad_response);
  co_return std::move(*names);
}

std::optional<net::address> epmd_address(std::string_view host, std::uint16_t port) {
  if (auto a = net::address::parse(host, port)) return a;
  if (host == "localhost") return net::address::loopback_v4(port);
  if (host.empty() || host.size() > 255) return std::nullopt;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(std::string(host).c_str(), nullptr, &hints, &res) != 0 || res == nullptr) return std::nullopt;
  // Prefer IPv4, as Erlang's inet_tcp distribution does.
  const addrinfo* pick = res;
  for (const addrinfo* p = res; p != nullptr; p = p->ai_next)
    if (p->ai_family == AF_INET) {
      pick = p;
      break;
    }
  auto a = net::address::from_sockaddr(pick->ai_addr, pick->ai_addrlen).with_port(port);
  ::freeaddrinfo(res);
  return a;
}

std::uint16_t epmd_port_from_env() {
  const char* v = std::getenv("ERL_EPMD_PORT");
  if (v == nullptr) return 4369;
  const std::string_view s(v);
  unsigned port = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  if (ec != std::errc{} || p != s.data() + s.size() || port == 0 || port > 65535) return 4369;
  return static_cast<std::uint16_t>(port);
}

} // namespace otter::dist
