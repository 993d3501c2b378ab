// otter and erl nodes by the kinds of name and node: hidden nodes on both
// sides, long names (-name) both ways, and a short/long mismatch refused
// quickly with a log line.

#include <otter/dist/node.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include <otter/blocking.hpp>
#include <otter/net/tcp.hpp>
#include <otter/receive.hpp>
#include <otter/registry.hpp>
#include <otter/send.hpp>

#include "../../lib/dist/epmd.hpp"
#include "../../lib/dist/handshake.hpp"
#include "../support/log_capture.hpp"
#include "../support/otter_test.hpp"
#include "erl_process.hpp"

using namespace otter_test;
using otter::term;
namespace dist = otter::dist;

namespace {

constexpr const char* cookie = "otter-names-cookie";

otter::node_options otter_node(std::string name, std::uint16_t epmd_port) {
  otter::node_options o;
  o.schedulers = 2;
  o.distribution.name = std::move(name);
  o.distribution.cookie = cookie;
  o.distribution.epmd_port = epmd_port;
  o.distribution.epmd = dist::epmd_mode::use;
  return o;
}

/// Starts erl (off the scheduler threads) and waits for `line` in its output.
otter::task<bool> start_erl(erl_node& into, bool long_name, std::string name, std::string eval, std::uint16_t epmd_port,
                            std::string wait_for, std::vector<std::string> extra = {}) {
  const bool ok = co_await otter::blocking([&] {
    into = long_name ? erl_node::start_long(name, cookie, epmd_port, eval, extra)
                     : erl_node::start(name, cookie, epmd_port, eval, extra);
    return wait_for.empty() || into.process.wait_line(wait_for, patience);
  });
  co_return ok;
}

bool logged(const log_capture& log, otter::node_report::event what, const std::string& part) {
  for (const auto& n : log.of<otter::node_report>())
    if (n.what == what && n.detail.find(part) != std::string::npos) return true;
  return false;
}

} // namespace

TEST_CASE("erl names - erl lists a hidden otter node in nodes(hidden) and not in nodes()", "[dist][erl]") {
  REQUIRE(erlang_available());
  epmd_daemon epmd = epmd_daemon::start(free_port());
  otter::node_options o = otter_node("o@localhost", epmd.port);
  o.distribution.hidden = true;
  run(std::move(o), [port = epmd.port]() -> otter::process {
    erl_node e;
    const bool said = co_await start_erl(
        e, false, "e@localhost",
        "R = net_adm:ping('o@localhost'), io:format(\"NODES ~p ~p ~p~n\", [R, nodes(), nodes(hidden)]), halt().", port,
        "NODES pong [] [o@localhost]");
    if (!said) UNSCOPED_INFO("erl said: " << e.process.output());
    CHECK(said);
  });
}

TEST_CASE("erl names - otter lists a hidden erl node only in nodes(hidden)", "[dist][erl]") {
  REQUIRE(erlang_available());
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node("o@localhost", epmd.port), [port = epmd.port]() -> otter::process {
    erl_node e;
    std::vector<std::string> hidden{"-hidden"}; // built before the co_await (docs/gcc12.md)
    const bool ready = co_await start_erl(e, false, "e@localhost",
                                          "io:format(\"READY~n\"), receive _ -> ok after 30000 -> ok end.", port, "READY",
                                          std::move(hidden));
    REQUIRE(ready);
    const bool pong = co_await dist::ping("e@localhost");
    CHECK(pong);
    CHECK(dist::nodes().empty());
    CHECK(dist::nodes(true) == std::vector<std::string>{"e@localhost"});
  });
}

TEST_CASE("erl names - monitor_nodes does not report a hidden node, monitor_node does", "[dist][erl]") {
  REQUIRE(erlang_available());
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node("o@localhost", epmd.port), [port = epmd.port]() -> otter::process {
    dist::monitor_nodes(true);
    erl_node e;
    std::vector<std::string> hidden{"-hidden"}; // built before the co_await (docs/gcc12.md)
    const bool ready = co_await start_erl(e, false, "e@localhost",
                                          "io:format(\"READY~n\"), receive _ -> ok after 30000 -> ok end.", port, "READY",
                                          std::move(hidden));
    REQUIRE(ready);
    dist::monitor_node("e@localhost"); // connects: erl runs now
    const bool pong = co_await dist::ping("e@localhost");
    REQUIRE(pong);
    // The node process sends the nodeups when the connection comes up, before
    // it delivers ping's answer: count the nodeups queued now.
    int ups = 0;
    for (int i = 0; i < 10; ++i) {
      const bool got = co_await otter::receive([](dist::nodeup) { return true; },
                                               otter::after(std::chrono::milliseconds(0), [] { return false; }));
      if (!got) break;
      ++ups;
    }
    CHECK(ups == 1); // monitor_node's, not monitor_nodes'
  });
}

TEST_CASE("erl names - an otter node with a long name and erl -name ping both ways and exchange messages",
          "[dist][erl]") {
  REQUIRE(erlang_available());
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node("a@127.0.0.1", epmd.port), [port = epmd.port]() -> otter::process {
    CHECK(dist::this_node() == "a@127.0.0.1");
    otter::register_name("box", otter::self());
    erl_node e;
    const bool started = co_await start_erl(
        e, true, "e@127.0.0.1",
        "register(echo, self()), io:format(\"PING ~p~n\", [net_adm:ping('a@127.0.0.1')]), "
        "{box, 'a@127.0.0.1'} ! {from_erl, self()}, "
        "receive {From, Msg} -> From ! {back, Msg} after 30000 -> ok end, receive _ -> ok after 30000 -> ok end.",
        port, "PING pong");
    REQUIRE(started);
    auto hello = co_await otter::receive(
        otter::when([](const term& t) { return t.is_tuple(2) && t[0].is_atom("from_erl"); },
                    [](term t) { return std::optional<term>(t); }),
        otter::after(patience, [] { return std::optional<term>(); }));
    REQUIRE(hello);
    CHECK(dist::node_of((*hello)[1].as_pid()) == "e@127.0.0.1");
    const bool pong = co_await dist::ping("e@127.0.0.1");
    CHECK(pong);
    otter::send(dist::remote_name{"echo", "e@127.0.0.1"}, term::tuple({term(otter::self()), term::atom("hi")}));
    auto back = co_await otter::receive(
        otter::when([](const term& t) { return t.is_tuple(2) && t[0].is_atom("back"); },
                    [](term t) { return std::optional<term>(t); }),
        otter::after(patience, [] { return std::optional<term>(); }));
    REQUIRE(back);
    CHECK((*back)[1].is_atom("hi"));
  });
}

TEST_CASE("erl names - a short-name otter node and a long-name erl node refuse each other at once, with a log line",
          "[dist][erl]") {
  REQUIRE(erlang_available());
  epmd_daemon epmd = epmd_daemon::start(free_port());
  log_capture log;
  otter::node_options o = otter_node("o@localhost", epmd.port);
  o.log.sink = log.sink();
  run(std::move(o), [port = epmd.port]() -> otter::process {
    erl_node e;
    // erl -name will not dial a short name: pang, not a hang.
    const bool said = co_await start_erl(
        e, true, "e@127.0.0.1",
        "io:format(\"PING ~p~n\", [net_adm:ping('o@localhost')]), receive _ -> ok after 30000 -> ok end.", port,
        "PING pang");
    CHECK(said);
    // otter will not dial a long name from a short-name node.
    const auto t0 = std::chrono::steady_clock::now();
    const bool pong = co_await dist::ping("e@127.0.0.1", std::chrono::seconds(5));
    CHECK_FALSE(pong);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
    CHECK(dist::nodes(true).empty());
  });
  CHECK(logged(log, otter::node_report::event::failed, "is a long name"));
}

TEST_CASE("erl names - a short-name node refuses a handshake from a long-name node with not_allowed and a log line",
          "[dist]") {
  const std::uint16_t epmd_port = free_port();
  log_capture log;
  otter::node_options o = otter_node("o@localhost", epmd_port);
  o.distribution.epmd = dist::epmd_mode::serve;
  o.log.sink = log.sink();
  run(std::move(o), [epmd_port]() -> otter::process {
    const otter::net::address epmd = otter::net::address::loopback_v4(epmd_port);
    auto found = co_await dist::epmd_port_please(epmd, "o");
    REQUIRE(found);
    auto s = co_await otter::net::tcp_socket::connect(epmd.with_port(found->port), patience);
    REQUIRE(s);
    dist::handshake_config c;
    c.our_name = "x@127.0.0.1";
    c.our_creation = 5;
    c.cookie = cookie;
    dist::handshake hs = dist::handshake::initiator(c, "o@localhost");
    std::string out;
    hs.start(out);
    auto sent = co_await s->send(out);
    REQUIRE(sent);
    out.clear();
    std::string reply;
    for (int i = 0; i < 10 && reply.size() < 2 + 12; ++i) {
      auto got = co_await s->recv(patience);
      if (!got || got->empty()) break;
      reply += *got;
    }
    CHECK(reply.find("snot_allowed") != std::string::npos);
    CHECK(dist::nodes(true).empty());
  });
  CHECK(logged(log, otter::node_report::event::refused, "is a long name"));
}
