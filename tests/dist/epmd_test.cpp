#include "../../lib/dist/epmd.hpp"

#include <algorithm>
#include <cstdlib>

#include <otter/blocking.hpp>
#include <otter/link.hpp>
#include <otter/process.hpp>

#include "../../lib/dist/epmd_server.hpp"
#include "../support/otter_test.hpp"
#include "erl_process.hpp"

using namespace otter_test;
namespace dist = otter::dist;
namespace net = otter::net;

namespace {

bool lists(const std::vector<dist::epmd_name>& names, const std::string& name, std::uint16_t port) {
  return std::any_of(names.begin(), names.end(), [&](const auto& n) { return n.name == name && n.port == port; });
}

// Asks until `alive` is no longer registered: epmd sees the registering socket
// close asynchronously, so a lookup just after may still find it. Bounded.
otter::task<bool> gone(net::address epmd, std::string alive) {
  for (int i = 0; i < 200; ++i) {
    auto p = co_await dist::epmd_port_please(epmd, alive);
    if (!p && p.error() == dist::epmd_errc::not_registered) co_return true;
    co_await otter::yield();
  }
  co_return false;
}

// The checks every epmd must pass, run against real epmd and otter's server.
otter::task<void> check_epmd(net::address epmd) {
  auto reg = co_await dist::epmd_register(epmd, "otter_one", 12345, false);
  REQUIRE(reg);
  CHECK(reg->creation != 0);
  auto port = co_await dist::epmd_port_please(epmd, "otter_one");
  REQUIRE(port);
  CHECK(port->port == 12345);
  CHECK(port->node_type == 77);
  CHECK(port->highest == 6);
  auto names = co_await dist::epmd_names(epmd);
  REQUIRE(names);
  CHECK(lists(*names, "otter_one", 12345));

  auto taken = co_await dist::epmd_register(epmd, "otter_one", 12346, false);
  CHECK(taken.error() == dist::epmd_errc::name_taken);
  auto unknown = co_await dist::epmd_port_please(epmd, "nobody_here");
  CHECK(unknown.error() == dist::epmd_errc::not_registered);

  const std::uint32_t first = reg->creation;
  reg->socket.close();
  const bool ended = co_await gone(epmd, "otter_one");
  CHECK(ended);
  auto again = co_await dist::epmd_register(epmd, "otter_one", 12347, true);
  REQUIRE(again);
  CHECK(again->creation != 0);
  CHECK(again->creation != first);
  auto hidden = co_await dist::epmd_port_please(epmd, "otter_one");
  REQUIRE(hidden);
  CHECK(hidden->node_type == 72);
}

} // namespace

TEST_CASE("epmd client - registers, looks up, lists, and is refused a taken name by real epmd", "[dist][epmd][erl]") {
  if (!erlang_available()) {
    WARN("erl or epmd is not installed: skipped");
    return;
  }
  auto epmd = epmd_daemon::start(free_port());
  run(one_core(), [port = epmd.port]() -> otter::process { co_await check_epmd(net::address::loopback_v4(port)); });
}

TEST_CASE("epmd client - a connection refused is the kernel's error", "[dist][epmd]") {
  run(one_core(), []() -> otter::process {
    auto r = co_await dist::epmd_port_please(net::address::loopback_v4(free_port()), "x");
    CHECK(r.error() == std::errc::connection_refused);
  });
}

TEST_CASE("epmd server - otter's client gets the same answers from otter's server", "[dist][epmd]") {
  run(one_core(), []() -> otter::process {
    auto server = dist::start_epmd_server(net::address::loopback_v4(0));
    REQUIRE(server);
    co_await check_epmd(server->address);
    otter::exit(server->process, otter::exit_reason::kill());
  });
}

TEST_CASE("epmd server - creations rise with each registration of a name", "[dist][epmd]") {
  run(one_core(), []() -> otter::process {
    auto server = dist::start_epmd_server(net::address::loopback_v4(0));
    REQUIRE(server);
    std::uint32_t last = 0;
    for (int i = 0; i < 3; ++i) {
      auto reg = co_await dist::epmd_register(server->address, "again", 1000, false);
      REQUIRE(reg);
      CHECK(reg->creation > last);
      last = reg->creation;
      reg->socket.close();
      const bool ended = co_await gone(server->address, "again");
      REQUIRE(ended);
    }
    otter::exit(server->process, otter::exit_reason::kill());
  });
}

TEST_CASE("epmd server - a bad request closes only that client", "[dist][epmd]") {
  run(one_core(), []() -> otter::process {
    auto server = dist::start_epmd_server(net::address::loopback_v4(0));
    REQUIRE(server);
    auto reg = co_await dist::epmd_register(server->address, "keeper", 2000, false);
    REQUIRE(reg);
    auto bad = co_await net::tcp_socket::connect(server->address, patience);
    REQUIRE(bad);
    auto sent = co_await bad->send(std::string("\0\x03\x63zz", 5)); // unknown request 99
    REQUIRE(sent);
    auto got = co_await bad->recv(patience);
    REQUIRE(got);
    CHECK(got->empty()); // closed without an answer
    auto port = co_await dist::epmd_port_please(server->address, "keeper");
    REQUIRE(port);
    CHECK(port->port == 2000); // the registration and the server live on
    otter::exit(server->process, otter::exit_reason::kill());
  });
}

TEST_CASE("epmd server - killing the server ends its registrations", "[dist][epmd]") {
  run(one_core(), []() -> otter::process {
    auto server = dist::start_epmd_server(net::address::loopback_v4(0));
    REQUIRE(server);
    auto reg = co_await dist::epmd_register(server->address, "short_lived", 2000, false);
    REQUIRE(reg);
    otter::exit(server->process, otter::exit_reason::kill());
    auto got = co_await reg->socket.recv(patience);
    REQUIRE(got);
    CHECK(got->empty());
  });
}

TEST_CASE("epmd server - an erl node registers with it and net_adm:names lists it", "[dist][epmd][erl]") {
  if (!erlang_available()) {
    WARN("erl or epmd is not installed: skipped");
    return;
  }
  run(one_core(), []() -> otter::process {
    auto server = dist::start_epmd_server(net::address::loopback_v4(0));
    REQUIRE(server);
    auto erl = std::make_shared<erl_node>(erl_node::start(
        "erl_lister", "cookie", server->address.port(),
        "io:format(\"names ~p~n\", [net_adm:names(\"localhost\")]), io:format(\"done~n\"), receive stop -> ok end."));
    // Built before the co_await: g++ 12 mishandles a lambda capturing a
    // shared_ptr by copy inside a co_await expression (docs/gcc12.md).
    auto wait = otter::blocking([erl] { return erl->process.wait_line("done", std::chrono::seconds(20)); });
    const bool printed = co_await wait;
    const std::string out = erl->process.output();
    INFO(out);
    REQUIRE(printed);
    CHECK(out.find("{\"erl_lister\",") != std::string::npos);
    auto names = co_await dist::epmd_names(server->address);
    REQUIRE(names);
    CHECK(std::any_of(names->begin(), names->end(), [](const auto& n) { return n.name == "erl_lister"; }));
    auto port = co_await dist::epmd_port_please(server->address, "erl_lister");
    REQUIRE(port);
    CHECK(port->highest >= 6);
    erl->process.kill();
    const bool ended = co_await gone(server->address, "erl_lister");
    CHECK(ended);
    otter::exit(server->process, otter::exit_reason::kill());
  });
}

TEST_CASE("epmd address - numeric hosts and localhost need no lookup", "[dist][epmd]") {
  auto a = dist::epmd_address("127.0.0.1", 4369);
  REQUIRE(a);
  CHECK(a->to_string() == "127.0.0.1:4369");
  auto l = dist::epmd_address("localhost", 5000);
  REQUIRE(l);
  CHECK(l->to_string() == "127.0.0.1:5000");
  auto six = dist::epmd_address("::1", 1);
  REQUIRE(six);
  CHECK(six->is_v6());
  CHECK_FALSE(dist::epmd_address("", 1));
}

TEST_CASE("epmd address - ERL_EPMD_PORT sets the port, else 4369", "[dist][epmd]") {
  const char* old = std::getenv("ERL_EPMD_PORT");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("ERL_EPMD_PORT", "4555", 1);
  CHECK(dist::epmd_port_from_env() == 4555);
  ::setenv("ERL_EPMD_PORT", "junk", 1);
  CHECK(dist::epmd_port_from_env() == 4369);
  ::unsetenv("ERL_EPMD_PORT");
  CHECK(dist::epmd_port_from_env() == 4369);
  if (old != nullptr) ::setenv("ERL_EPMD_PORT", saved.c_str(), 1);
}
