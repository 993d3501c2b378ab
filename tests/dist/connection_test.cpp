// A node against hand-driven peers: the handshake and frames written by the
// test, so that a peer can misbehave in ways no real node would.

#include <otter/dist/node.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include <otter/net/tcp.hpp>
#include <otter/receive.hpp>

#include "../../lib/dist/epmd.hpp"
#include "../../lib/dist/frame.hpp"
#include "../../lib/dist/handshake.hpp"
#include "../support/log_capture.hpp"
#include "../support/otter_test.hpp"
#include "erl_process.hpp"

using namespace otter_test;
using otter::term;
namespace dist = otter::dist;

namespace {

constexpr const char* cookie = "connection-test-cookie";

otter::node_options served(std::uint16_t epmd_port) {
  otter::node_options o;
  o.schedulers = 1;
  o.distribution.name = "a@localhost";
  o.distribution.cookie = cookie;
  o.distribution.epmd_port = epmd_port;
  o.distribution.epmd = dist::epmd_mode::serve;
  return o;
}

/// Connects to a@localhost as `name` and completes the handshake (closed socket on failure).
otter::task<otter::net::tcp_socket> raw_peer(std::uint16_t epmd_port, std::string name, std::string* leftover) {
  const otter::net::address epmd = otter::net::address::loopback_v4(epmd_port);
  auto found = co_await dist::epmd_port_please(epmd, "a");
  if (!found) co_return otter::net::tcp_socket();
  auto s = co_await otter::net::tcp_socket::connect(epmd.with_port(found->port), patience);
  if (!s) co_return otter::net::tcp_socket();
  dist::handshake_config c;
  c.our_name = name;
  c.our_creation = 77;
  c.cookie = cookie;
  dist::handshake hs = dist::handshake::initiator(c, "a@localhost");
  std::string out;
  hs.start(out);
  for (int i = 0; i < 100 && hs.get_state() == dist::handshake::state::in_progress; ++i) {
    if (!out.empty()) {
      auto sent = co_await s->send(out);
      if (!sent) co_return otter::net::tcp_socket();
      out.clear();
    }
    auto got = co_await s->recv(patience);
    if (!got || got->empty()) co_return otter::net::tcp_socket();
    hs.feed(*got, out);
  }
  if (!out.empty()) (void)co_await s->send(out);
  if (hs.get_state() != dist::handshake::state::done) co_return otter::net::tcp_socket();
  const auto left = hs.leftover();
  leftover->assign(reinterpret_cast<const char*>(left.data()), left.size());
  co_return std::move(*s);
}

/// Reads frames until one that is not a tick, or until the peer closes (nothing).
otter::task<std::optional<dist::control_message>> next_frame(otter::net::tcp_socket& s, dist::frame_reader& r,
                                                             std::uint16_t self_index) {
  const dist::local_node me{"peer@localhost", 77, self_index};
  for (int i = 0; i < 1000; ++i) {
    std::string_view body;
    const auto st = r.next(body);
    if (st == dist::frame_reader::status::frame) {
      dist::control_message m;
      std::string error;
      if (!dist::parse_frame(body, m, me, error)) co_return std::nullopt;
      co_return m;
    }
    if (st == dist::frame_reader::status::tick) continue;
    if (st == dist::frame_reader::status::error) co_return std::nullopt;
    auto got = co_await s.recv(patience);
    if (!got || got->empty()) co_return std::nullopt;
    r.append(*got);
  }
  co_return std::nullopt;
}

} // namespace

TEST_CASE("dist connection - a malformed frame drops that connection only, and is logged", "[dist]") {
  const std::uint16_t epmd_port = otter_test::free_port();
  log_capture log;
  otter::node_options o = served(epmd_port);
  o.log.sink = log.sink();
  run(std::move(o), [epmd_port]() -> otter::process {
    std::string good_left, bad_left;
    otter::net::tcp_socket good = co_await raw_peer(epmd_port, "good@localhost", &good_left);
    REQUIRE(good.is_open());
    otter::net::tcp_socket bad = co_await raw_peer(epmd_port, "bad@localhost", &bad_left);
    REQUIRE(bad.is_open());

    // A pass-through frame whose control message is not a term.
    auto sent = co_await bad.send(std::string("\0\0\0\3\x70\x83\xff", 7));
    REQUIRE(sent);
    std::string rest;
    for (int i = 0; i < 100; ++i) { // ticks may come first; then the close
      auto got = co_await bad.recv(patience);
      REQUIRE(got);
      if (got->empty()) break;
      rest += *got;
    }
    CHECK(rest.find_first_not_of('\0') == std::string::npos); // nothing but ticks

    // The other connection still works: net_kernel answers it.
    const std::uint16_t me = dist::intern_node("good@localhost", 77);
    const dist::local_node local{"good@localhost", 77, me};
    const otter::pid caller = dist::make_remote_pid(me, 1, 0);
    const term tag = term::atom("the_tag");
    std::string frame;
    const term request = term::tuple({term::atom("$gen_call"), term::tuple({term(caller), tag}),
                                      term::tuple({term::atom("is_auth"), term::atom("good@localhost")})});
    dist::append_frame(frame,
                       term::tuple({term(dist::ctrl::reg_send), term(caller), term::atom(""), term::atom("net_kernel")}),
                       &request, local);
    auto wrote = co_await good.send(frame);
    REQUIRE(wrote);
    dist::frame_reader reader(1 << 20);
    reader.append(good_left);
    auto answer = co_await next_frame(good, reader, me);
    REQUIRE(answer);
    CHECK(answer->op == dist::ctrl::send);
    CHECK(answer->payload == term::tuple({tag, term::atom("yes")}));
  });
  bool logged = false;
  for (const auto& r : *log.records)
    if (const auto* n = std::get_if<otter::node_report>(&r))
      logged |= n->what == otter::node_report::event::refused && n->node == "bad@localhost";
  CHECK(logged);
}

TEST_CASE("dist connection - a frame above max_frame drops the connection", "[dist]") {
  const std::uint16_t epmd_port = otter_test::free_port();
  otter::node_options o = served(epmd_port);
  o.distribution.max_frame = 1024;
  o.log.sink = [](const otter::log_record&) {};
  run(std::move(o), [epmd_port]() -> otter::process {
    std::string left;
    otter::net::tcp_socket s = co_await raw_peer(epmd_port, "big@localhost", &left);
    REQUIRE(s.is_open());
    // A length of 1 MiB: refused from the length alone, before the bytes come.
    auto sent = co_await s.send(std::string("\0\x10\0\0\x70", 5));
    REQUIRE(sent);
    bool closed = false;
    for (int i = 0; i < 100 && !closed; ++i) {
      auto got = co_await s.recv(patience);
      REQUIRE(got);
      closed = got->empty();
    }
    CHECK(closed);
  });
}

TEST_CASE("dist connection - a peer that stops talking is dropped after the tick time", "[dist]") {
  const std::uint16_t epmd_port = otter_test::free_port();
  otter::node_options o = served(epmd_port);
  o.distribution.ticktime = std::chrono::milliseconds(400);
  o.log.sink = [](const otter::log_record&) {};
  run(std::move(o), [epmd_port]() -> otter::process {
    otter::dist::monitor_nodes(true);
    std::string left;
    otter::net::tcp_socket s = co_await raw_peer(epmd_port, "mute@localhost", &left);
    REQUIRE(s.is_open());
    // Read (ticks) but never write: the node gives up on us.
    bool closed = false;
    for (int i = 0; i < 1000 && !closed; ++i) {
      auto got = co_await s.recv(patience);
      REQUIRE(got);
      closed = got->empty();
    }
    CHECK(closed);
    auto down = co_await otter::receive(
        otter::when([](const otter::dist::nodedown& d) { return d.node == "mute@localhost"; },
                    [](otter::dist::nodedown d) { return std::optional<otter::exit_reason>(d.reason); }),
        otter::after(patience, [] { return std::optional<otter::exit_reason>(); }));
    REQUIRE(down);
    CHECK(*down == otter::exit_reason::custom("net_tick_timeout"));
  });
}
