// An otter node and real Erlang nodes (erl from erlang-nox) in one cluster,
// on a private epmd: ping both ways, messages both ways, links, monitors, a
// node that dies, a wrong cookie, and erl registering with otter's epmd.

#include <otter/dist/node.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include <otter/blocking.hpp>
#include <otter/link.hpp>
#include <otter/monitor.hpp>
#include <otter/receive.hpp>
#include <otter/registry.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>

#include "../support/await.hpp"
#include "../support/log_capture.hpp"
#include "../support/otter_test.hpp"
#include "erl_await.hpp"
#include "erl_process.hpp"

using namespace otter_test;
using otter::term;

namespace {

constexpr const char* cookie = "otter-interop-cookie";

otter::node_options otter_node(std::uint16_t epmd_port, otter::dist::epmd_mode mode = otter::dist::epmd_mode::use) {
  otter::node_options o;
  o.schedulers = 2;
  o.distribution.name = "o@localhost";
  o.distribution.cookie = cookie;
  o.distribution.epmd_port = epmd_port;
  o.distribution.epmd = mode;
  return o;
}

/// Starts erl (off the scheduler threads) and waits for `line` in its output.
otter::task<bool> start_erl(erl_node& into, std::string name, std::string eval, std::uint16_t epmd_port,
                            std::string wait_for, std::string with_cookie = cookie) {
  const bool ok = co_await otter::blocking([&] {
    into = erl_node::start(name, with_cookie, epmd_port, eval);
    return wait_for.empty() || into.process.wait_line(wait_for, patience);
  });
  co_return ok;
}

} // namespace

TEST_CASE("erl interop - erl pings an otter node and gets pong", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), [port = epmd.port]() -> otter::process {
    erl_node e;
    const bool said = co_await start_erl(e, "e@localhost", "io:format(\"PING ~p~n\", [net_adm:ping('o@localhost')]), halt().",
                                         port, "PING pong");
    CHECK(said);
  });
}

TEST_CASE("erl interop - otter pings an erl node and gets pong", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), [port = epmd.port]() -> otter::process {
    erl_node e;
    const bool ready = co_await start_erl(e, "e@localhost", "io:format(\"READY~n\"), receive _ -> ok after 30000 -> ok end.",
                                          port, "READY");
    REQUIRE(ready);
    const bool pong = co_await otter::dist::ping("e@localhost");
    CHECK(pong);
    CHECK(otter::dist::nodes() == std::vector<std::string>{"e@localhost"});
  });
}

TEST_CASE("erl interop - terms of every kind cross to erl and back unchanged", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), [port = epmd.port]() -> otter::process {
    erl_node e;
    const bool ready = co_await start_erl(
        e, "e@localhost", "register(echo, self()), io:format(\"READY~n\"), receive {From, Msg} -> From ! {back, Msg} after 30000 -> ok end.",
        port, "READY");
    REQUIRE(ready);
    const term sent = term::tuple(
        {term::atom("hello"), term::list({term(1), term(-2), term(300), term(1ll << 40)}), term::binary("bytes"),
         term(3.25), term::atom("\xc3\xa5ngstr\xc3\xb6m"), term::map({{term::atom("k"), term::tuple({})}}),
         term(otter::self()), term::list({term(1)}, term(2)), term::from_ref(otter::make_ref(), 0)});
    otter::send(otter::dist::remote_name{"echo", "e@localhost"}, term::tuple({term(otter::self()), sent}));
    auto back = co_await term_where([](const term& t) { return t.is_tuple(2) && t[0].is_atom("back"); });
    REQUIRE(back);
    // The reference was made before distribution numbered this node: compare the rest.
    const term& got = (*back)[1];
    REQUIRE(got.is_tuple(sent.size()));
    for (std::size_t i = 0; i + 1 < sent.size(); ++i) CHECK(got[i] == sent[i]);
  });
}

TEST_CASE("erl interop - erl sends to a registered otter process and gets the answer", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), [port = epmd.port]() -> otter::process {
    otter::register_name("box", otter::self());
    erl_node e;
    const bool started = co_await start_erl(
        e, "e@localhost", "{box, 'o@localhost'} ! {hello, self()}, receive X -> io:format(\"GOT ~p~n\", [X]) after 30000 -> ok end, halt().",
        port, "");
    REQUIRE(started);
    auto hello = co_await term_where([](const term& t) { return t.is_tuple(2) && t[0].is_atom("hello"); });
    REQUIRE(hello);
    otter::send((*hello)[1].as_pid(), term::atom("world"));
    const bool got = co_await erl_says(e, "GOT world");
    CHECK(got);
  });
}

TEST_CASE("erl interop - an erl process linked to an otter process gets its exit reason", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), [port = epmd.port]() -> otter::process {
    const otter::pid linked = otter::spawn([]() -> otter::process {
      otter::register_name("box", otter::self());
      term t = co_await otter::receive([](term m) { return m; });
      otter::link(t[1].as_pid());
      otter::exit(otter::exit_reason::custom("bye"));
    });
    (void)linked;
    erl_node e;
    const bool started = co_await start_erl(
        e, "e@localhost",
        "process_flag(trap_exit, true), {box, 'o@localhost'} ! {link_me, self()}, "
        "receive {'EXIT', _, R} -> io:format(\"EXIT ~p~n\", [R]) after 30000 -> ok end, halt().",
        port, "");
    REQUIRE(started);
    const bool said = co_await erl_says(e, "EXIT bye");
    CHECK(said);
  });
}

TEST_CASE("erl interop - a monitor of an erl process gets its exit reason", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), [port = epmd.port]() -> otter::process {
    otter::register_name("box", otter::self());
    erl_node e;
    const bool started = co_await start_erl(
        e, "e@localhost", "{box, 'o@localhost'} ! {hello, self()}, receive die -> exit(oops) after 30000 -> ok end.", port, "");
    REQUIRE(started);
    auto hello = co_await term_where([](const term& t) { return t.is_tuple(2) && t[0].is_atom("hello"); });
    REQUIRE(hello);
    const otter::pid p = (*hello)[1].as_pid();
    const otter::ref m = otter::monitor(p);
    otter::send(p, term::atom("die"));
    auto down = co_await down_of(m);
    REQUIRE(down);
    CHECK(down->reason == otter::exit_reason::custom("oops"));
  });
}

TEST_CASE("erl interop - when erl dies, links get noconnection and monitor_node a nodedown", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), [port = epmd.port]() -> otter::process {
    otter::register_name("box", otter::self());
    erl_node e;
    const bool started = co_await start_erl(
        e, "e@localhost", "{box, 'o@localhost'} ! {hello, self()}, receive _ -> ok after 30000 -> ok end.", port, "");
    REQUIRE(started);
    auto hello = co_await term_where([](const term& t) { return t.is_tuple(2) && t[0].is_atom("hello"); });
    REQUIRE(hello);
    const otter::pid p = (*hello)[1].as_pid();
    otter::trap_exit(true);
    otter::link(p);
    otter::dist::monitor_node("e@localhost");
    const bool pong = co_await otter::dist::ping("e@localhost"); // the link has crossed
    REQUIRE(pong);
    co_await otter::blocking([&] { e.process.kill(); return 0; });
    auto exit = co_await exit_from(p);
    REQUIRE(exit);
    CHECK(exit->reason == otter::exit_reason::noconnection());
    auto down = co_await otter::receive([](otter::dist::nodedown d) { return std::optional<std::string>(d.node); },
                                        otter::after(patience, [] { return std::optional<std::string>(); }));
    REQUIRE(down);
    CHECK(*down == "e@localhost");
  });
}

TEST_CASE("erl interop - erl with the wrong cookie is refused and otter logs why", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  log_capture log;
  otter::node_options o = otter_node(epmd.port);
  o.log.sink = log.sink();
  run(std::move(o), [port = epmd.port]() -> otter::process {
    erl_node e;
    const bool said = co_await start_erl(e, "e@localhost", "io:format(\"PING ~p~n\", [net_adm:ping('o@localhost')]), halt().",
                                         port, "PING pang", "wrong-cookie");
    CHECK(said);
    CHECK(otter::dist::nodes().empty());
  });
  bool refused = false;
  for (const auto& r : *log.records)
    if (const auto* n = std::get_if<otter::node_report>(&r))
      refused |= n->what == otter::node_report::event::refused && n->detail.find("cookie") != std::string::npos;
  CHECK(refused);
}

TEST_CASE("erl interop - erl registers with the epmd an otter node serves", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  const std::uint16_t port = free_port();
  run(otter_node(port, otter::dist::epmd_mode::serve), [port]() -> otter::process {
    erl_node e;
    const bool ready = co_await start_erl(e, "e@localhost", "io:format(\"READY~n\"), receive _ -> ok after 30000 -> ok end.",
                                          port, "READY");
    REQUIRE(ready);
    const bool pong = co_await otter::dist::ping("e@localhost");
    CHECK(pong);
  });
}
