// The handshake state machine against real erl nodes, over loopback TCP.
#include "../../lib/dist/handshake.hpp"

#include <memory>

#include <otter/blocking.hpp>
#include <otter/link.hpp>
#include <otter/net/tcp.hpp>
#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>

#include "../../lib/dist/epmd.hpp"
#include "../support/otter_test.hpp"
#include "erl_process.hpp"

using namespace otter_test;
namespace dist = otter::dist;
namespace net = otter::net;

namespace {

constexpr auto erl_patience = std::chrono::seconds(20);

dist::handshake_config otter_config(std::string cookie, std::uint32_t creation) {
  dist::handshake_config c;
  c.our_name = "otter@localhost";
  c.our_creation = creation;
  c.cookie = std::move(cookie);
  return c;
}

// Runs `h` over `s` until it is done or fails, or the peer closes: "done",
// "failed: <error>" or "closed". Bounded: a handshake is a handful of messages.
otter::task<std::string> drive(net::tcp_socket& s, dist::handshake& h) {
  std::string out;
  h.start(out);
  for (int i = 0; i < 64 && h.get_state() == dist::handshake::state::in_progress; ++i) {
    if (!out.empty()) {
      auto sent = co_await s.send(out);
      out.clear();
      if (!sent) co_return "closed";
    }
    auto got = co_await s.recv(patience);
    if (!got || got->empty()) co_return "closed";
    h.feed(*got, out);
  }
  if (!out.empty()) {
    auto sent = co_await s.send(out); // the acceptor's last word, the challenge_ack
    if (!sent) co_return "closed";
  }
  if (h.get_state() == dist::handshake::state::done) co_return "done";
  if (h.get_state() == dist::handshake::state::failed) co_return "failed: " + h.error();
  co_return "stuck";
}

// Waits for a line of erl's output off the scheduler, so otter processes keep running.
otter::task<bool> erl_says(std::shared_ptr<erl_node> erl, std::string text) {
  // The awaiter is built before the co_await: g++ 12 mishandles a lambda that
  // captures a string by copy inside a co_await expression (docs/gcc12.md).
  auto wait = otter::blocking([erl, text] { return erl->process.wait_line(text, erl_patience); });
  co_return co_await wait;
}

// An erl node that reports connections to it: "ready", then "nodeup N" / "nodedown N".
const char* watch_nodes =
    "net_kernel:monitor_nodes(true), io:format(\"ready~n\"),"
    "F = fun Loop() -> receive {nodeup, N} -> io:format(\"nodeup ~p~n\", [N]), Loop();"
    " {nodedown, N} -> io:format(\"nodedown ~p~n\", [N]), Loop() end end, F().";

otter::task<std::string> dial_erl(std::uint16_t epmd_port, std::string cookie,
                                  net::tcp_socket& s) {
  auto port = co_await dist::epmd_port_please(net::address::loopback_v4(epmd_port), "erl");
  if (!port) co_return "no port: " + port.error().message();
  auto c = co_await net::tcp_socket::connect(net::address::loopback_v4(port->port), patience);
  if (!c) co_return "connect: " + c.error().message();
  s = std::move(c.value());
  auto h = dist::handshake::initiator(otter_config(std::move(cookie), 0x5eed), "erl@localhost");
  co_return co_await drive(s, h);
}

bool require_erlang() {
  if (erlang_available()) return true;
  WARN("erl or epmd is not installed: skipped");
  return false;
}

} // namespace

TEST_CASE("handshake with erl - otter dials erl and erl reports the node up", "[dist][handshake][erl]") {
  if (!require_erlang()) return;
  auto epmd = epmd_daemon::start(free_port());
  auto erl = std::make_shared<erl_node>(erl_node::start("erl@localhost", "sesame", epmd.port, watch_nodes));
  run(one_core(), [&]() -> otter::process {
    const bool ready = co_await erl_says(erl, "ready");
    INFO(erl->process.output());
    REQUIRE(ready);
    net::tcp_socket s;
    const std::string result = co_await dial_erl(epmd.port, "sesame", s);
    CHECK(result == "done");
    const bool up = co_await erl_says(erl, "nodeup otter@localhost");
    INFO(erl->process.output());
    CHECK(up);
    s.close();
    const bool down = co_await erl_says(erl, "nodedown otter@localhost");
    CHECK(down);
  });
}

TEST_CASE("handshake with erl - erl refuses otter's wrong cookie and logs it", "[dist][handshake][erl]") {
  if (!require_erlang()) return;
  auto epmd = epmd_daemon::start(free_port());
  auto erl = std::make_shared<erl_node>(erl_node::start("erl@localhost", "sesame", epmd.port, watch_nodes));
  run(one_core(), [&]() -> otter::process {
    const bool ready = co_await erl_says(erl, "ready");
    REQUIRE(ready);
    net::tcp_socket s;
    const std::string result = co_await dial_erl(epmd.port, "not-the-cookie", s);
    CHECK(result == "closed");
    const bool logged = co_await erl_says(erl, "otter@localhost");
    INFO(erl->process.output());
    CHECK(logged);
  });
  const std::string out = erl->process.output();
  INFO(out);
  CHECK(out.find("nodeup") == std::string::npos);
  CHECK(out.find("rejected") != std::string::npos);
}

namespace {

// Accepts one connection on `l` and runs an acceptor handshake on it; sends
// the result to `to` and keeps the socket open until told "close".
otter::process accept_one(net::tcp_listener l, std::string cookie, otter::pid to) {
  auto c = co_await l.accept(patience);
  if (!c) {
    otter::send(to, std::string("accept: ") + c.error().message());
    co_return;
  }
  std::string asked;
  auto h = dist::handshake::acceptor(otter_config(std::move(cookie), 0xc0de),
                                     [&asked](std::string_view peer, std::uint32_t creation) {
                                       asked = std::string(peer) + (creation != 0 ? " with creation" : "");
                                       return dist::status_reply::ok;
                                     });
  std::string result = co_await drive(c.value(), h);
  otter::send(to, result + " (" + asked + ")");
  co_await otter::receive([](std::string) {});
}

} // namespace

TEST_CASE("handshake with erl - erl connects to otter through epmd and lists it in nodes()", "[dist][handshake][erl]") {
  if (!require_erlang()) return;
  auto epmd = epmd_daemon::start(free_port());
  run(one_core(), [&]() -> otter::process {
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0));
    REQUIRE(l);
    const std::uint16_t listen_port = l->local_address().port();
    auto reg = co_await dist::epmd_register(net::address::loopback_v4(epmd.port), "otter", listen_port, false);
    REQUIRE(reg);
    const otter::pid acceptor = otter::spawn(accept_one, std::move(l.value()), std::string("sesame"), otter::self());
    auto erl = std::make_shared<erl_node>(erl_node::start(
        "erl@localhost", "sesame", epmd.port,
        "R = net_kernel:connect_node('otter@localhost'), io:format(\"connect ~p ~p~n\", [R, nodes()]),"
        "receive stop -> ok end."));
    const bool connected = co_await erl_says(erl, "connect true [otter@localhost]");
    INFO(erl->process.output());
    CHECK(connected);
    const std::string result = co_await otter::receive([](std::string r) { return r; },
                                                       otter::after(patience, [] { return std::string("timeout"); }));
    CHECK(result == "done (erl@localhost with creation)");
    otter::send(acceptor, std::string("close"));
  });
}

TEST_CASE("handshake with erl - otter refuses erl's wrong cookie and erl's connect fails", "[dist][handshake][erl]") {
  if (!require_erlang()) return;
  auto epmd = epmd_daemon::start(free_port());
  run(one_core(), [&]() -> otter::process {
    auto l = net::tcp_listener::listen(net::address::loopback_v4(0));
    REQUIRE(l);
    auto reg = co_await dist::epmd_register(net::address::loopback_v4(epmd.port), "otter", l->local_address().port(),
                                            false);
    REQUIRE(reg);
    const otter::pid acceptor = otter::spawn(accept_one, std::move(l.value()), std::string("sesame"), otter::self());
    auto erl = std::make_shared<erl_node>(erl_node::start(
        "erl@localhost", "wrong", epmd.port,
        "R = net_kernel:connect_node('otter@localhost'), io:format(\"connect ~p ~p~n\", [R, nodes()]),"
        "receive stop -> ok end."));
    const std::string result = co_await otter::receive([](std::string r) { return r; },
                                                       otter::after(patience, [] { return std::string("timeout"); }));
    CHECK(result == "failed: wrong cookie from erl@localhost (erl@localhost with creation)");
    otter::send(acceptor, std::string("close"));
    const bool refused = co_await erl_says(erl, "connect false []");
    INFO(erl->process.output());
    CHECK(refused);
  });
}
