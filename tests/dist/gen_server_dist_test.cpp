// gen_server across nodes: '$gen_call' and '$gen_cast' terms served by an
// otter server's remote_requests, and call_remote to servers by term — on one
// node, between two otter nodes, and with real erl on a private epmd.

#include <otter/gen_server.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include <unistd.h>

#include <otter/blocking.hpp>
#include <otter/dist/node.hpp>
#include <otter/monitor.hpp>
#include <otter/receive.hpp>
#include <otter/registry.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/timer.hpp>

#include "../support/otter_test.hpp"
#include "erl_await.hpp"
#include "erl_process.hpp"

using namespace otter_test;
using otter::term;

namespace {

// ---------------------------------------------------------------- the server

struct add {
  int n;
  static constexpr auto term_fields = otter::term_tuple("add", &add::n); // {add, N}
};
struct get {
  using reply_type = int;
  static constexpr auto term_fields = otter::term_tuple("get"); // {get}
};
struct get_later {
  using reply_type = int;
  static constexpr auto term_fields = otter::term_tuple("get_later"); // {get_later}
};
struct release {
  static constexpr auto term_fields = otter::term_tuple("release"); // {release}
};
struct reset {
  static constexpr auto term_fields = otter::term_tuple("reset"); // {reset}
};
struct add_async {
  int n;
  static constexpr auto term_fields = otter::term_tuple("add_async", &add_async::n); // {add_async, N}
};
struct who {
  using reply_type = otter::pid;
  static constexpr auto term_fields = otter::term_tuple("who"); // {who}: the server's pid
};

class counter {
public:
  using remote_requests = otter::gen_server::remote<add, get, get_later, release, reset, who, add_async>;
  using info_types = otter::gen_server::info<term>;

  int handle_call(add a) { return total_ += a.n; }
  int handle_call(get) { return total_; }
  otter::task<> handle_call(get_later, otter::gen_server::reply_to<int> to) {
    waiting_.emplace(std::move(to)); // answered by the next release cast
    co_return;
  }
  void handle_call(reset) { total_ = 0; }
  otter::pid handle_call(who) { return otter::self(); }
  otter::task<int> handle_call(add_async a) { // a coroutine handler, as a local call would run it
    co_await otter::sleep(std::chrono::milliseconds(1));
    co_return total_ += a.n;
  }
  void handle_cast(add a) { total_ += a.n; }
  void handle_cast(release) {
    if (waiting_) waiting_->reply(total_);
    waiting_.reset();
  }
  void handle_info(term t) { infos_.push_back(std::move(t)); }
  int handle_call(std::string) { return static_cast<int>(infos_.size()); } // local-only: how many infos

private:
  int total_ = 0;
  std::optional<otter::gen_server::reply_to<int>> waiting_;
  std::vector<term> infos_;
};

otter::task<otter::server_ref<counter>> start_counter(std::string name = "counter") {
  auto r = co_await otter::gen_server::start_link<counter>(otter::gen_server::start_options().named(std::move(name)));
  co_return r.value();
}

/// `{Name, Node}` made by a function: g++ 12 mishandles a braced aggregate
/// temporary that owns memory inside a co_await expression (docs/gcc12.md).
otter::dist::remote_name at(std::string name, std::string node) { return {std::move(name), std::move(node)}; }

term erl_tag() { return term::list({term::atom("alias")}, term::from_ref(otter::make_ref(), 0)); } // [alias|Ref]

term gen_call(const term& tag, term request) {
  return term::tuple({term::atom("$gen_call"), term::tuple({term(otter::self()), tag}), std::move(request)});
}

otter::task<std::optional<term>> reply_to_tag(term tag) {
  co_return co_await otter::receive(
      otter::when([&tag](const term& t) { return t.is_tuple(2) && t[0] == tag; }, // by reference: g++ 12 (docs/gcc12.md)
                  [](term t) { return std::optional<term>(t[1]); }),
      otter::after(patience, [] { return std::optional<term>(); }));
}

// A process registered as `name` that takes the first '$gen_call' and then
// never answers (`exit_with` empty) or exits with that reason.
otter::process sink(std::string name, std::string exit_with, std::promise<void>* ready) {
  otter::register_name(name, otter::self());
  if (ready) ready->set_value();
  co_await otter::receive([](term) {}, otter::after(patience, [] {}));
  if (!exit_with.empty()) otter::exit(otter::exit_reason::custom(exit_with));
  co_await otter::receive([](term) {}, otter::after(patience, [] {}));
}

// A server that answers every call with `oops`, which is not an int.
otter::process wrong_answer() {
  otter::register_name("wrong", otter::self());
  term t = co_await otter::receive([](term m) { return m; });
  otter::send(t[1][0].as_pid(), term::tuple({t[1][1], term::atom("oops")}));
}

} // namespace

// ---------------------------------------------------------------- one node, by term

TEST_CASE("gen_server dist - a '$gen_call' term for a listed request gets {Tag, Reply}", "[gen_server][dist]") {
  run(deterministic(), []() -> otter::process {
    auto server = co_await start_counter();
    const term tag = erl_tag();
    otter::send(server.pid(), gen_call(tag, term::tuple({term::atom("add"), term(5)})));
    auto reply = co_await reply_to_tag(tag);
    REQUIRE(reply);
    CHECK(*reply == term(5));
    const int local = co_await otter::gen_server::call(server, get{}); // the same state as local calls see
    CHECK(local == 5);
  });
}

TEST_CASE("gen_server dist - a term call to a coroutine handle_call gets its reply", "[gen_server][dist]") {
  run(deterministic(), []() -> otter::process {
    auto server = co_await start_counter();
    const term tag = erl_tag();
    otter::send(server.pid(), gen_call(tag, term::tuple({term::atom("add_async"), term(9)})));
    auto reply = co_await reply_to_tag(tag);
    REQUIRE(reply);
    CHECK(*reply == term(9));
  });
}

TEST_CASE("gen_server dist - a term call to a void handle_call is answered ok", "[gen_server][dist]") {
  run(deterministic(), []() -> otter::process {
    auto server = co_await start_counter();
    co_await otter::gen_server::call(server, add{3});
    const term tag = erl_tag();
    otter::send(server.pid(), gen_call(tag, term::tuple({term::atom("reset")})));
    auto reply = co_await reply_to_tag(tag);
    REQUIRE(reply);
    CHECK(reply->is_atom("ok"));
    const int total = co_await otter::gen_server::call(server, get{});
    CHECK(total == 0);
  });
}

TEST_CASE("gen_server dist - a deferred reply to a term call goes back as {Tag, Reply}", "[gen_server][dist]") {
  run(deterministic(), []() -> otter::process {
    auto server = co_await start_counter();
    const term tag = erl_tag();
    otter::send(server.pid(), gen_call(tag, term::tuple({term::atom("get_later")})));
    otter::gen_server::cast(server, add{7});
    otter::send(server.pid(), term::tuple({term::atom("$gen_cast"), term::tuple({term::atom("release")})}));
    auto reply = co_await reply_to_tag(tag);
    REQUIRE(reply);
    CHECK(*reply == term(7));
  });
}

TEST_CASE("gen_server dist - a '$gen_cast' term runs handle_cast", "[gen_server][dist]") {
  run(deterministic(), []() -> otter::process {
    auto server = co_await start_counter();
    otter::send(server.pid(), term::tuple({term::atom("$gen_cast"), term::tuple({term::atom("add"), term(4)})}));
    const int total = co_await otter::gen_server::call(server, get{});
    CHECK(total == 4);
  });
}

TEST_CASE("gen_server dist - a term call that matches no listed request stops the server with function_clause",
          "[gen_server][dist]") {
  run(deterministic(), []() -> otter::process {
    otter::trap_exit(true); // the server is linked to us
    auto server = co_await start_counter();
    const otter::ref watch = otter::monitor(server.pid());
    otter::send(server.pid(), gen_call(erl_tag(), term::tuple({term::atom("bogus"), term(1)})));
    auto down = co_await otter::receive(otter::when([watch](const otter::down_message& d) { return d.monitor == watch; },
                                                    [](otter::down_message d) { return d.reason; }));
    CHECK(down.get_kind() == otter::exit_reason::kind::error);
    CHECK(down.error_type() == "function_clause");
    CHECK(std::string(down.detail()).find("{bogus,1}") != std::string::npos);
  });
}

TEST_CASE("gen_server dist - other terms still go to handle_info", "[gen_server][dist]") {
  run(deterministic(), []() -> otter::process {
    auto server = co_await start_counter();
    otter::send(server.pid(), term::tuple({term::atom("$gen_call"), term::atom("not_a_from"), term(1)}));
    otter::send(server.pid(), term::atom("hello"));
    const int infos = co_await otter::gen_server::call(server, std::string("infos"));
    CHECK(infos == 2);
  });
}

// ---------------------------------------------------------------- one node, call_remote

TEST_CASE("gen_server dist - call_remote by name on this node calls a server by term", "[gen_server][dist]") {
  run(deterministic(), []() -> otter::process {
    auto server = co_await start_counter();
    const otter::dist::remote_name here{"counter", otter::dist::this_node()};
    const int total = co_await otter::gen_server::call_remote<int>(here, add{5});
    CHECK(total == 5);
    const int again = co_await otter::gen_server::call_remote<int>(server.pid(), add{1});
    CHECK(again == 6);
    co_await otter::gen_server::call_remote<void>(here, reset{});
    const int zero = co_await otter::gen_server::call(server, get{});
    CHECK(zero == 0);
  });
}

TEST_CASE("gen_server dist - call_remote to a name nobody registered fails with noproc", "[gen_server][dist]") {
  run(deterministic(), []() -> otter::process {
    auto r = co_await otter::gen_server::try_call_remote<int>(at("nobody", otter::dist::this_node()),
                                                               add{1});
    REQUIRE_FALSE(r);
    CHECK(r.error() == otter::exit_reason::noproc());
  });
}

TEST_CASE("gen_server dist - call_remote times out when the server does not answer", "[gen_server][dist]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid quiet = otter::spawn(sink, std::string("quiet"), std::string(), nullptr);
    auto r = co_await otter::gen_server::try_call_remote<int>(quiet, add{1}, std::chrono::milliseconds(100));
    REQUIRE_FALSE(r);
    CHECK(r.error() == otter::exit_reason::timeout());
  });
}

TEST_CASE("gen_server dist - call_remote reports the server's exit reason when it dies during the call",
          "[gen_server][dist]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid dying = otter::spawn(sink, std::string("dying"), std::string("boom"), nullptr);
    bool thrown = false;
    try {
      co_await otter::gen_server::call_remote<int>(dying, add{1});
    } catch (const otter::call_error& e) {
      thrown = true;
      CHECK(e.reason() == otter::exit_reason::custom("boom"));
    }
    CHECK(thrown);
  });
}

TEST_CASE("gen_server dist - call_remote reports a reply that does not decode as bad_reply", "[gen_server][dist]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid wrong = otter::spawn(wrong_answer);
    auto r = co_await otter::gen_server::try_call_remote<int>(wrong, add{1});
    REQUIRE_FALSE(r);
    CHECK(r.error().error_type() == "bad_reply");
  });
}

TEST_CASE("gen_server dist - call_remote to another node without distribution fails with noconnection",
          "[gen_server][dist]") {
  run(deterministic(), []() -> otter::process {
    auto r = co_await otter::gen_server::try_call_remote<int>(at("counter", "b@localhost"), add{1});
    REQUIRE_FALSE(r);
    CHECK(r.error() == otter::exit_reason::noconnection());
  });
}

// ---------------------------------------------------------------- two otter nodes

namespace {

otter::node_options named(std::string name, std::uint16_t epmd_port) {
  otter::node_options o;
  o.schedulers = 2;
  o.distribution.name = std::move(name);
  o.distribution.cookie = "otter-gs-cookie";
  o.distribution.epmd_port = epmd_port;
  o.distribution.ticktime = std::chrono::seconds(4);
  return o;
}

// Node b: a counter registered as "counter", until a {stop} term comes to "b_main".
otter::process b_main(std::promise<void>* ready) {
  otter::register_name("b_main", otter::self());
  auto server = co_await start_counter();
  (void)server;
  ready->set_value();
  co_await otter::receive([](term) {}, otter::after(patience * 3, [] {}));
}

struct peer_b {
  std::uint16_t epmd_port = free_port();
  std::promise<void> ready;
  std::thread thread;
  int rc = -1;

  peer_b() {
    auto started = ready.get_future();
    thread = std::thread([this] {
      otter::node_options o = named("b@localhost", epmd_port);
      o.distribution.epmd = otter::dist::epmd_mode::serve;
      otter::node b(std::move(o));
      rc = b.run(b_main, &ready);
    });
    started.wait();
  }
  ~peer_b() {
    if (thread.joinable()) thread.join();
  }
};

/// Stops b and waits for its main process's DOWN, so that the stop has crossed
/// before this node's run ends (a stop still queued then would be lost).
otter::task<> stop_b() {
  const otter::dist::remote_name main{"b_main", "b@localhost"};
  const otter::ref m = otter::monitor(main);
  otter::send(main, term::atom("stop"));
  auto down = co_await otter::receive(
      otter::when([m](const otter::down_message& d) { return d.monitor == m; }, [](otter::down_message) { return true; }),
      otter::after(patience, [] { return false; }));
  CHECK(down);
}

otter::node_options node_a(const peer_b& b) {
  otter::node_options o = named("a@localhost", b.epmd_port);
  o.distribution.epmd = otter::dist::epmd_mode::use;
  return o;
}

} // namespace

TEST_CASE("gen_server dist - an otter node calls another otter node's server by name and by pid", "[gen_server][dist]") {
  peer_b b;
  run(node_a(b), []() -> otter::process {
    const otter::dist::remote_name there{"counter", "b@localhost"};
    const int five = co_await otter::gen_server::call_remote<int>(there, add{5});
    CHECK(five == 5);
    const otter::pid b_server = co_await otter::gen_server::call_remote<otter::pid>(there, who{});
    CHECK(b_server.is_remote());
    const int seven = co_await otter::gen_server::call_remote<int>(b_server, add{2});
    CHECK(seven == 7);
    // The deferred path across nodes: get_later waits for a release cast (both
    // from this process, so they arrive in this order).
    const term tag = erl_tag();
    otter::send(there, gen_call(tag, term::tuple({term::atom("get_later")})));
    otter::send(there, term::tuple({term::atom("$gen_cast"), term::tuple({term::atom("release")})}));
    auto later = co_await reply_to_tag(tag);
    REQUIRE(later);
    CHECK(*later == term(7));
    co_await stop_b();
  });
  CHECK(b.rc == 0);
}

TEST_CASE("gen_server dist - call_remote to a name not registered on the other otter node fails with noproc",
          "[gen_server][dist]") {
  peer_b b;
  run(node_a(b), []() -> otter::process {
    auto r = co_await otter::gen_server::try_call_remote<int>(at("nobody", "b@localhost"), add{1});
    REQUIRE_FALSE(r);
    CHECK(r.error() == otter::exit_reason::noproc());
    co_await stop_b();
  });
}

TEST_CASE("gen_server dist - call_remote to a node that is not there fails with noconnection", "[gen_server][dist]") {
  peer_b b;
  run(node_a(b), []() -> otter::process {
    auto r = co_await otter::gen_server::try_call_remote<int>(at("counter", "nobody@localhost"),
                                                               add{1});
    REQUIRE_FALSE(r);
    CHECK(r.error() == otter::exit_reason::noconnection());
    co_await stop_b();
  });
}

// ---------------------------------------------------------------- with erl

namespace {

constexpr const char* cookie = "otter-gs-erl-cookie";

otter::node_options otter_node(std::uint16_t epmd_port) { return erl_peer_node(cookie, epmd_port); }

otter::task<bool> start_erl(erl_node& into, std::string eval, std::uint16_t epmd_port, std::string wait_for) {
  const bool ok = co_await otter::blocking([&] {
    into = erl_node::start("e@localhost", cookie, epmd_port, eval);
    return into.process.wait_line(wait_for, patience);
  });
  co_return ok;
}

/// A directory of its own for an Erlang module, removed with it.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    path = std::filesystem::temp_directory_path() / ("otter-gs-" + std::to_string(::getpid()) + "-" +
                                                     std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// An Erlang gen_server, registered as ecounter: {add, N} adds and replies the
// total, whoami replies its pid, hang never replies, die exits with boom.
constexpr const char* ecounter_source = R"(-module(ecounter).
-behaviour(gen_server).
-export([init/1, handle_call/3, handle_cast/2]).
init(N) -> {ok, N}.
handle_call({add, K}, _From, N) -> {reply, N + K, N + K};
handle_call(whoami, _From, N) -> {reply, self(), N};
handle_call(hang, _From, N) -> {noreply, N};
handle_call(die, _From, _N) -> exit(boom).
handle_cast(_, N) -> {noreply, N}.
)";

/// Writes ecounter.erl into `dir` and returns the -eval that compiles it, starts it and prints READY.
std::string ecounter_eval(const temp_dir& dir) {
  const std::filesystem::path file = dir.path / "ecounter.erl";
  std::ofstream(file) << ecounter_source;
  return "{ok, M, B} = compile:file(\"" + file.string() +
         "\", [binary, report]), {module, M} = code:load_binary(M, \"ecounter.erl\", B), "
         "{ok, _} = gen_server:start({local, ecounter}, ecounter, 0, []), io:format(\"READY~n\"), "
         "receive _ -> ok after 60000 -> ok end.";
}

struct erl_request {
  erl_request() = default;
  explicit erl_request(std::string a) : atom_name(std::move(a)) {} // a constructor: g++ 12 (docs/gcc12.md)
  std::string atom_name; // a bare atom request: whoami, hang, die
};

} // namespace

template <>
struct otter::codec<erl_request> {
  static term to_term(const erl_request& r) { return term::atom(r.atom_name); }
  static bool from_term(const term& t, erl_request& r) {
    if (!t.is_atom()) return false;
    r.atom_name = std::string(t.atom_name());
    return true;
  }
};

TEST_CASE("gen_server dist - erl calls and casts to an otter gen_server by {Name, Node}", "[gen_server][dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), [port = epmd.port]() -> otter::process {
    auto server = co_await start_counter();
    erl_node e;
    const bool said = co_await start_erl(
        e,
        "S = {counter, 'o@localhost'}, io:format(\"ADD ~p~n\", [gen_server:call(S, {add, 5})]), "
        "ok = gen_server:cast(S, {add, 2}), io:format(\"GET ~p~n\", [gen_server:call(S, {get})]), "
        "io:format(\"RESET ~p~n\", [gen_server:call(S, {reset})]), halt().",
        port, "ADD 5");
    CHECK(said);
    const bool got = co_await erl_says(e, "GET 7");
    CHECK(got);
    const bool reset_ok = co_await erl_says(e, "RESET ok");
    CHECK(reset_ok);
    const int total = co_await otter::gen_server::call(server, get{});
    CHECK(total == 0);
  });
}

TEST_CASE("gen_server dist - erl's call of a request the otter server does not list exits with function_clause",
          "[gen_server][dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), [port = epmd.port]() -> otter::process {
    otter::trap_exit(true); // the server is linked to us and is going to stop
    auto server = co_await start_counter();
    erl_node e;
    const bool said = co_await start_erl(
        e,
        "R = (catch gen_server:call({counter, 'o@localhost'}, bogus, 10000)), "
        "case R of {'EXIT', {{function_clause, _}, _}} -> io:format(\"EXITED function_clause~n\"); "
        "_ -> io:format(\"OTHER ~p~n\", [R]) end, halt().",
        port, "EXITED function_clause");
    INFO("erl said: " << e.process.output());
    CHECK(said);
    (void)server;
  });
}

TEST_CASE("gen_server dist - otter calls an Erlang gen_server by {Name, Node} and by pid", "[gen_server][dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  temp_dir dir;
  run(otter_node(epmd.port), [port = epmd.port, eval = ecounter_eval(dir)]() -> otter::process {
    erl_node e;
    const bool ready = co_await start_erl(e, eval, port, "READY");
    REQUIRE(ready);
    const otter::dist::remote_name server{"ecounter", "e@localhost"};
    const int five = co_await otter::gen_server::call_remote<int>(server, add{5});
    CHECK(five == 5);
    const otter::pid p = co_await otter::gen_server::call_remote<otter::pid>(server, erl_request("whoami"));
    CHECK(p.is_remote());
    const int six = co_await otter::gen_server::call_remote<int>(p, add{1});
    CHECK(six == 6);
    // net_kernel answers {is_auth, Node} with yes.
    const auto is_auth = std::make_pair(otter::atom{"is_auth"}, otter::atom{otter::dist::this_node()});
    const otter::atom yes =
        co_await otter::gen_server::call_remote<otter::atom>(at("net_kernel", "e@localhost"), is_auth);
    CHECK(yes.name == "yes");
  });
}

TEST_CASE("gen_server dist - a call to an Erlang gen_server that does not answer times out", "[gen_server][dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  temp_dir dir;
  run(otter_node(epmd.port), [port = epmd.port, eval = ecounter_eval(dir)]() -> otter::process {
    erl_node e;
    const bool ready = co_await start_erl(e, eval, port, "READY");
    REQUIRE(ready);
    const otter::dist::remote_name server{"ecounter", "e@localhost"};
    auto r = co_await otter::gen_server::try_call_remote<int>(server, erl_request("hang"), std::chrono::milliseconds(300));
    REQUIRE_FALSE(r);
    CHECK(r.error() == otter::exit_reason::timeout());
    const int still = co_await otter::gen_server::call_remote<int>(server, add{0}); // it still serves
    CHECK(still == 0);
  });
}

TEST_CASE("gen_server dist - a call to a name not registered on erl fails with noproc", "[gen_server][dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  run(otter_node(epmd.port), [port = epmd.port]() -> otter::process {
    erl_node e;
    const bool ready = co_await start_erl(e, "io:format(\"READY~n\"), receive _ -> ok after 60000 -> ok end.", port,
                                          "READY");
    REQUIRE(ready);
    auto r = co_await otter::gen_server::try_call_remote<int>(at("nobody", "e@localhost"), add{1});
    REQUIRE_FALSE(r);
    CHECK(r.error() == otter::exit_reason::noproc());
  });
}

TEST_CASE("gen_server dist - an Erlang gen_server that dies during the call reports its exit reason",
          "[gen_server][dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  temp_dir dir;
  run(otter_node(epmd.port), [port = epmd.port, eval = ecounter_eval(dir)]() -> otter::process {
    erl_node e;
    const bool ready = co_await start_erl(e, eval, port, "READY");
    REQUIRE(ready);
    auto r = co_await otter::gen_server::try_call_remote<int>(at("ecounter", "e@localhost"),
                                                               erl_request("die"));
    REQUIRE_FALSE(r);
    CHECK(r.error() == otter::exit_reason::custom("boom"));
  });
}

TEST_CASE("gen_server dist - a call to an erl node that goes down during the call fails with noconnection",
          "[gen_server][dist][erl]") {
  REQUIRE(erlang_available()); // the README's install command installs erlang-nox
  epmd_daemon epmd = epmd_daemon::start(free_port());
  temp_dir dir;
  run(otter_node(epmd.port), [port = epmd.port, eval = ecounter_eval(dir)]() -> otter::process {
    erl_node e;
    const bool ready = co_await start_erl(e, eval, port, "READY");
    REQUIRE(ready);
    const otter::dist::remote_name server{"ecounter", "e@localhost"};
    const int zero = co_await otter::gen_server::call_remote<int>(server, add{0}); // connected
    CHECK(zero == 0);
    // The call waits on `hang` while another process kills erl.
    const otter::pid me = otter::self();
    otter::spawn([](otter::pid back, erl_node* node) -> otter::process {
      co_await otter::blocking([node] { node->process.kill(); });
      otter::send(back, term::atom("killed"));
    }, me, &e);
    auto r = co_await otter::gen_server::try_call_remote<int>(server, erl_request("hang"), patience);
    REQUIRE_FALSE(r);
    CHECK(r.error() == otter::exit_reason::noconnection());
    co_await otter::receive([](term t) { return t.is_atom("killed"); }, otter::after(patience, [] { return false; }));
  });
}
