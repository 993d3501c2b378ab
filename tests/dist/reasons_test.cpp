// Exit reasons across nodes: a reason that no kind of otter::exit_reason holds
// exactly keeps the Erlang term it came as, and goes on to other nodes unchanged.

#include <otter/dist/node.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include <otter/blocking.hpp>
#include <otter/dist/codec.hpp>
#include <otter/link.hpp>
#include <otter/monitor.hpp>
#include <otter/receive.hpp>
#include <otter/registry.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>

#include "../support/await.hpp"
#include "../support/otter_test.hpp"
#include "erl_await.hpp"
#include "erl_process.hpp"

using namespace otter_test;
using otter::term;

namespace {

term badarg_with_stack() {
  return term::tuple({term::atom("badarg"),
                      term::list({term::tuple({term::atom("m"), term::atom("f"), 1, term::list({})})})});
}

} // namespace

TEST_CASE("reasons - an Erlang reason no kind holds prints as Erlang prints it and converts back unchanged", "[dist]") {
  otter::exit_reason r;
  REQUIRE(otter::from_term(badarg_with_stack(), r));
  CHECK(r.get_kind() == otter::exit_reason::kind::custom);
  CHECK(r.to_string() == "{badarg,[{m,f,1,[]}]}");
  CHECK(otter::to_term(r) == badarg_with_stack());
}

TEST_CASE("reasons - two reasons from equal Erlang terms are equal", "[dist]") {
  otter::exit_reason a, b;
  REQUIRE(otter::from_term(badarg_with_stack(), a));
  REQUIRE(otter::from_term(badarg_with_stack(), b));
  CHECK(a == b);
}

TEST_CASE("reasons - {shutdown, Term} from another node is an orderly shutdown that keeps its term", "[dist]") {
  const term t = term::tuple({term::atom("shutdown"), term::tuple({term::atom("a"), 1})});
  otter::exit_reason r;
  REQUIRE(otter::from_term(t, r));
  CHECK(r.get_kind() == otter::exit_reason::kind::shutdown);
  CHECK(otter::to_term(r) == t);
}

TEST_CASE("reasons - otter's own reasons still convert to their Erlang terms", "[dist]") {
  CHECK(otter::to_term(otter::exit_reason::custom("bye")) == term::atom("bye"));
  CHECK(otter::to_term(otter::exit_reason::shutdown("done")) ==
        term::tuple({term::atom("shutdown"), term::atom("done")}));
  CHECK(otter::to_term(otter::exit_reason::noconnection()) == term::atom("noconnection"));
}

namespace {

constexpr const char* cookie = "otter-reasons-cookie";

otter::node_options otter_node(std::uint16_t epmd_port) { return erl_peer_node(cookie, epmd_port); }

} // namespace

TEST_CASE("reasons - an Erlang exit reason reaches otter and goes back to Erlang intact", "[dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), [port = epmd.port]() -> otter::process {
    otter::register_name("box", otter::self());
    // erl: Dying exits with a reason otter has no kind for; Watcher traps exits,
    // is linked to the otter process that relays that reason, and prints what it gets.
    erl_node e;
    const std::string eval =
        "Dying = spawn(fun() -> receive die -> exit({badarg, [{m, f, 1, []}]}) end end), "
        "process_flag(trap_exit, true), {box, 'o@localhost'} ! {pids, Dying, self()}, "
        "receive {'EXIT', _, R} -> io:format(\"EXIT ~p~n\", [R]) after 30000 -> io:format(\"no EXIT~n\") end, "
        "halt().";
    const bool started = co_await otter::blocking([&] {
      e = erl_node::start("e@localhost", cookie, port, eval);
      return true;
    });
    REQUIRE(started);
    const term pids = co_await otter::receive(
        otter::when([](const term& t) { return t.is_tuple(3) && t[0].is_atom("pids"); }, [](term t) { return t; }),
        otter::after(patience, [] { return term(); }));
    REQUIRE(pids.is_tuple(3));
    const otter::pid dying = pids[1].as_pid(), watcher = pids[2].as_pid();
    const otter::pid relay = otter::spawn([](otter::pid dying, otter::pid watcher) -> otter::process {
      otter::link(watcher);
      const otter::ref m = otter::monitor(dying);
      otter::send(dying, term::atom("die"));
      auto down = co_await down_of(m);
      if (!down) otter::exit(otter::exit_reason::custom("no_down"));
      otter::exit(down->reason); // the reason as it came
    }, dying, watcher);
    const otter::ref m = otter::monitor(relay);
    auto down = co_await down_of(m);
    REQUIRE(down);
    CHECK(down->reason.to_string() == "{badarg,[{m,f,1,[]}]}");
    const bool said = co_await otter::blocking([&] { return e.process.wait_line("EXIT {badarg,[{m,f,1,[]}]}", patience); });
    CHECK(said);
  });
}
