// Distribution's former limits, against real erl on a private epmd: a
// demonitor of a monitor by name reaches the peer, a node registers with epmd
// again when epmd restarts, node::send from a foreign thread reaches a remote
// pid, and dist::spawn_request both ways.

#include <otter/dist/node.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <otter/blocking.hpp>
#include <otter/link.hpp>
#include <otter/monitor.hpp>
#include <otter/receive.hpp>
#include <otter/registry.hpp>
#include <otter/send.hpp>

#include "../../lib/dist/epmd.hpp"
#include "../support/await.hpp"
#include "../support/log_capture.hpp"
#include "../support/otter_test.hpp"
#include "erl_await.hpp"
#include "erl_process.hpp"

using namespace otter_test;
using otter::term;

namespace {

constexpr const char* cookie = "otter-limits-cookie";

otter::node_options otter_node(std::uint16_t epmd_port) { return erl_peer_node(cookie, epmd_port); }

/// Starts erl (off the scheduler threads); it is to send `{hello, Pid}` to `box`.
otter::task<bool> start_erl(erl_node& into, std::string eval, std::uint16_t epmd_port) {
  const bool ok = co_await otter::blocking([&] {
    into = erl_node::start("e@localhost", cookie, epmd_port, eval);
    return true;
  });
  co_return ok;
}

/// erl's `ctl` answers `{count, From}` with `{count, N}`, N the monitors on
/// `target`, and `{stop, From}` by stopping `target` and, once it is gone, `stopped`.
constexpr const char* monitored_target =
    "P = spawn(fun() -> receive stop -> exit(bye) end end), register(target, P), register(ctl, self()), "
    "{box, 'o@localhost'} ! {hello, self()}, "
    "Loop = fun L() -> receive "
    "{count, From} -> {monitored_by, M} = process_info(P, monitored_by), From ! {count, length(M)}, L(); "
    "{stop, From} -> R = monitor(process, P), P ! stop, receive {'DOWN', R, _, _, _} -> ok end, From ! stopped, L() "
    "after 30000 -> ok end end, Loop().";

otter::task<std::optional<std::int64_t>> monitors_on_target(otter::pid ctl) {
  otter::send(ctl, term::tuple({term::atom("count"), term(otter::self())}));
  auto n = co_await term_where([](const term& t) { return t.is_tuple(2) && t[0].is_atom("count"); });
  if (!n) co_return std::nullopt;
  co_return (*n)[1].to_int64();
}

} // namespace

TEST_CASE("dist limits - a demonitor of a monitor by name removes the monitor on the erl node", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), [port = epmd.port]() -> otter::process {
    otter::register_name("box", otter::self());
    erl_node e;
    const bool started = co_await start_erl(e, monitored_target, port);
    REQUIRE(started);
    auto hello = co_await term_where([](const term& t) { return t.is_tuple(2) && t[0].is_atom("hello"); });
    REQUIRE(hello);
    const otter::pid ctl = (*hello)[1].as_pid();

    const otter::dist::remote_name target{"target", "e@localhost"};
    const otter::ref m = otter::monitor(target);
    const auto before = co_await monitors_on_target(ctl);
    REQUIRE(before);
    CHECK(*before == 1);

    CHECK(otter::demonitor(m));
    const auto after = co_await monitors_on_target(ctl);
    REQUIRE(after);
    CHECK(*after == 0);

    // The target exits; erl says so only after its exit went out: no DOWN came.
    otter::send(ctl, term::tuple({term::atom("stop"), term(otter::self())}));
    auto stopped = co_await term_where([](const term& t) { return t.is_atom("stopped"); });
    REQUIRE(stopped);
    const bool down = co_await otter::receive(
        otter::when([m](const otter::down_message& d) { return d.monitor == m; }, [](otter::down_message) { return true; }),
        otter::after(std::chrono::milliseconds(0), [] { return false; }));
    CHECK_FALSE(down);
  });
}

TEST_CASE("dist limits - a node registers with epmd again when epmd restarts, keeping its creation", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  const std::uint16_t port = epmd.port;
  // The log sink (on the logger thread) tells the test process of each epmd
  // report, through node::send.
  struct relay {
    otter::node* node = nullptr;
    std::atomic<std::uint64_t> to{0};
  };
  auto r = std::make_shared<relay>();
  log_capture log;
  otter::node_options o = otter_node(port);
  o.log.sink = [r, all = log.sink()](const otter::log_record& rec) {
    all(rec);
    const auto* n = std::get_if<otter::node_report>(&rec);
    const std::uint64_t to = r->to.load();
    if (n != nullptr && n->what == otter::node_report::event::epmd && to != 0)
      r->node->send(otter::pid::from_bits(to), n->detail);
  };
  otter::node node(std::move(o));
  r->node = &node;
  const int rc = node.run([&epmd, r, port]() -> otter::process {
    r->to.store(otter::self().bits());
    const std::uint32_t creation = otter::dist::creation();
    co_await otter::blocking([&] {
      epmd.process.kill();
      return epmd.process.wait_exit(patience);
    });
    auto lost = co_await otter::receive(
        otter::when([](const std::string& s) { return s.find("lost") != std::string::npos; },
                    [](std::string s) { return std::optional<std::string>(std::move(s)); }),
        otter::after(patience, [] { return std::optional<std::string>(); }));
    REQUIRE(lost);
    CHECK(lost->find("127.0.0.1:" + std::to_string(port)) != std::string::npos);

    co_await otter::blocking([&] {
      epmd = epmd_daemon::start(port); // the same port
      return 0;
    });
    auto again = co_await otter::receive(
        otter::when([](const std::string& s) { return s.find("again") != std::string::npos; },
                    [](std::string s) { return std::optional<std::string>(std::move(s)); }),
        otter::after(patience, [] { return std::optional<std::string>(); }));
    REQUIRE(again);
    auto names = co_await otter::dist::epmd_names(otter::net::address::loopback_v4(port));
    REQUIRE(names);
    CHECK(std::any_of(names->begin(), names->end(), [](const auto& n) { return n.name == "o"; }));
    CHECK(otter::dist::creation() == creation);
    r->to.store(0);
  });
  INFO("first process exited with " << node.last_exit_reason().to_string());
  REQUIRE(rc == 0);
}

TEST_CASE("dist limits - node::send from a thread outside the node reaches a process on an erl node", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  otter::node node(otter_node(epmd.port));
  const int rc = node.run([&node, port = epmd.port]() -> otter::process {
    otter::register_name("box", otter::self());
    erl_node e;
    const bool started = co_await start_erl(
        e,
        "{box, 'o@localhost'} ! {hello, self()}, "
        "receive X -> io:format(\"GOT ~p~n\", [X]) after 30000 -> ok end, "
        "receive Y -> io:format(\"GOT ~p~n\", [Y]) after 30000 -> ok end, halt().",
        port);
    REQUIRE(started);
    auto hello = co_await term_where([](const term& t) { return t.is_tuple(2) && t[0].is_atom("hello"); });
    REQUIRE(hello);
    const otter::pid p = (*hello)[1].as_pid();
    co_await otter::blocking([&] {
      std::thread outside([&] {
        node.send(p, term::atom("first"));
        node.send(p, term::atom("second"));
      });
      outside.join();
      return 0;
    });
    const bool first = co_await erl_says(e, "GOT first");
    CHECK(first);
    const bool second = co_await erl_says(e, "GOT second");
    CHECK(second);
  });
  INFO("first process exited with " << node.last_exit_reason().to_string());
  REQUIRE(rc == 0);
}

namespace {

/// An erl node that only waits (its processes are what spawn_request starts).
constexpr const char* idle_erl = "{box, 'o@localhost'} ! {hello, self()}, receive _ -> ok after 30000 -> ok end.";

/// Starts idle erl and waits for its hello (so the connection is up).
otter::task<bool> start_idle_erl(erl_node& e, std::uint16_t port) {
  const bool started = co_await start_erl(e, idle_erl, port);
  if (!started) co_return false;
  auto hello = co_await term_where([](const term& t) { return t.is_tuple(2) && t[0].is_atom("hello"); });
  co_return hello.has_value();
}

} // namespace

TEST_CASE("dist spawn_request - starts module:function(args) on an erl node and returns its pid", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), [port = epmd.port]() -> otter::process {
    otter::register_name("box", otter::self());
    erl_node e;
    const bool up = co_await start_idle_erl(e, port);
    REQUIRE(up);
    // erlang:send(Self, {spawned, hi}), run by the new Erlang process.
    const term args = term::list({term(otter::self()), term::tuple({term::atom("spawned"), term::atom("hi")})});
    const std::string node = "e@localhost";
    auto spawned = co_await otter::dist::spawn_request(node, "erlang", "send", args);
    REQUIRE(spawned);
    CHECK(spawned->is_remote());
    CHECK(otter::dist::node_of(*spawned) == "e@localhost");
    auto got = co_await term_where([](const term& t) { return t.is_tuple(2) && t[0].is_atom("spawned"); });
    REQUIRE(got);
    CHECK((*got)[1].is_atom("hi"));
  });
}

TEST_CASE("dist spawn_request - with link, the new process's exit reaches the caller through the link", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), [port = epmd.port]() -> otter::process {
    otter::register_name("box", otter::self());
    erl_node e;
    const bool up = co_await start_idle_erl(e, port);
    REQUIRE(up);
    otter::trap_exit(true);
    otter::dist::spawn_request_options linked;
    linked.link = true;
    const term args = term::list({term::atom("boom")});
    const std::string node = "e@localhost";
    auto spawned = co_await otter::dist::spawn_request(node, "erlang", "exit", args, linked); // exit(boom)
    REQUIRE(spawned);
    auto exit = co_await exit_from(*spawned);
    REQUIRE(exit);
    CHECK(exit->reason == otter::exit_reason::custom("boom"));
  });
}

TEST_CASE("dist spawn_request - the new process's io:put_chars is answered by net_kernel, its group leader", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), [port = epmd.port]() -> otter::process {
    otter::register_name("box", otter::self());
    erl_node e;
    const bool up = co_await start_idle_erl(e, port);
    REQUIRE(up);
    otter::trap_exit(true);
    otter::dist::spawn_request_options linked;
    linked.link = true;
    const term args = term::list({term::binary("spawn_request: put_chars reached otter's stdout\n")});
    const std::string node = "e@localhost";
    auto spawned = co_await otter::dist::spawn_request(node, "io", "put_chars", args, linked);
    REQUIRE(spawned);
    // io:put_chars returns (and the process ends normally) only once its group leader answered.
    auto exit = co_await exit_from(*spawned);
    REQUIRE(exit);
    CHECK(exit->reason == otter::exit_reason::normal());
  });
}

TEST_CASE("dist spawn_request - fails with badarg for arguments that are not a list, without sending", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), []() -> otter::process {
    const std::string node = "e@localhost";
    auto spawned = co_await otter::dist::spawn_request(node, "erlang", "node", term::atom("not_a_list"));
    REQUIRE_FALSE(spawned);
    CHECK(spawned.error().to_string().find("badarg") != std::string::npos);
    CHECK(otter::dist::nodes().empty());
  });
}

TEST_CASE("dist spawn_request - an erl node's spawn_request to otter is answered notsup", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), [port = epmd.port]() -> otter::process {
    erl_node e;
    const bool started = co_await start_erl(
        e,
        "R = erlang:spawn_request('o@localhost', erlang, node, [], []), "
        "receive {spawn_reply, R, error, E} -> io:format(\"SPAWN ~p~n\", [E]) after 10000 -> io:format(\"SPAWN timeout~n\") end, "
        "halt().",
        port);
    REQUIRE(started);
    const bool said = co_await erl_says(e, "SPAWN notsup");
    CHECK(said);
  });
}
