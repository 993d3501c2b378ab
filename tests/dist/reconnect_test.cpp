// Connections under stress between otter nodes in one OS process: both nodes
// dialing at once, a peer that restarts under the same name, a supervisor
// whose child loses its remote link, and peers that vanish mid-handshake.

#include <otter/dist/node.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <otter/blocking.hpp>
#include <otter/link.hpp>
#include <otter/monitor.hpp>
#include <otter/net/tcp.hpp>
#include <otter/receive.hpp>
#include <otter/registry.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/supervisor.hpp>

#include "../../lib/dist/epmd.hpp"
#include "../../lib/dist/handshake.hpp"
#include "../support/await.hpp"
#include "../support/log_capture.hpp"
#include "../support/otter_test.hpp"
#include "erl_process.hpp"

using namespace otter_test;
using otter::term;
namespace dist = otter::dist;

namespace {

constexpr const char* cookie = "reconnect-test-cookie";

otter::node_options named(std::string name, std::uint16_t epmd_port, dist::epmd_mode mode) {
  otter::node_options o;
  o.schedulers = 2;
  o.distribution.name = std::move(name);
  o.distribution.cookie = cookie;
  o.distribution.epmd_port = epmd_port;
  o.distribution.epmd = mode;
  o.distribution.ticktime = std::chrono::seconds(4);
  o.distribution.setup_time = std::chrono::seconds(3);
  return o;
}

/// A node run on its own thread (joined by the destructor).
struct node_thread {
  std::thread thread;
  int rc = -1;

  template <class F, class... A>
  node_thread(otter::node_options o, F f, A... args) {
    thread = std::thread([this, o = std::move(o), f, args...]() mutable {
      otter::node n(std::move(o));
      rc = n.run(f, args...);
    });
  }
  void join() {
    if (thread.joinable()) thread.join();
  }
  ~node_thread() { join(); }
};

/// `parties` threads meet; each wait bounded by `patience`.
class rendezvous {
public:
  explicit rendezvous(int parties) : parties_(parties) {}
  bool arrive_and_wait() {
    std::unique_lock lock(m_);
    const int gen = generation_;
    if (++arrived_ == parties_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
      return true;
    }
    return cv_.wait_for(lock, patience, [&] { return generation_ != gen; });
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  int parties_;
  int arrived_ = 0;
  int generation_ = 0;
};

otter::task<bool> meet(rendezvous& r) {
  const bool ok = co_await otter::blocking([&r] { return r.arrive_and_wait(); });
  co_return ok;
}

// A node's service, registered as "svc":
//   {echo, Pid, Msg}         → Msg to Pid
//   {whoami, Pid}            → {me, self()} to Pid
//   {spawn, Pid}             → a process that waits (at most 3 patience); {spawned, NewPid} to Pid
//   stop                     → the service exits, and with it the node
otter::process waiter() {
  co_await otter::receive([](term t) { return t.is_atom("go"); }, otter::after(patience * 3, [] { return true; }));
}

otter::process service(std::promise<void>* ready) {
  otter::register_name("svc", otter::self());
  ready->set_value();
  for (int i = 0; i < 10000; ++i) {
    term t = co_await otter::receive([](term m) { return m; }, otter::after(patience * 3, [] { return term::atom("stop"); }));
    if (t.is_atom("stop")) co_return;
    if (t.is_tuple(3) && t[0].is_atom("echo")) {
      otter::send(t[1].as_pid(), t[2]);
    } else if (t.is_tuple(2) && t[0].is_atom("whoami")) {
      otter::send(t[1].as_pid(), term::tuple({term::atom("me"), term(otter::self())}));
    } else if (t.is_tuple(2) && t[0].is_atom("spawn")) {
      const otter::pid child = otter::spawn(waiter);
      otter::send(t[1].as_pid(), term::tuple({term::atom("spawned"), term(child)}));
    }
  }
}

/// Node b@localhost running `service` on its own thread, registered with the epmd on `epmd_port`.
struct b_node {
  std::promise<void> ready;
  std::optional<node_thread> node;
  explicit b_node(std::uint16_t epmd_port) {
    auto started = ready.get_future();
    node.emplace(named("b@localhost", epmd_port, dist::epmd_mode::use), service, &ready);
    started.wait();
  }
};

/// Stops b: its service exits, and with it the node; waits for the DOWN.
otter::task<bool> stop_b() {
  const dist::remote_name svc{"svc", "b@localhost"};
  const otter::ref m = otter::monitor(svc);
  otter::send(svc, term::atom("stop"));
  auto down = co_await down_of(m);
  co_return down.has_value();
}

template <class P>
otter::task<std::optional<term>> term_where(P pred, std::chrono::milliseconds limit = patience) {
  co_return co_await otter::receive(otter::when(pred, [](term t) { return std::optional<term>(std::move(t)); }),
                                    otter::after(limit, [] { return std::optional<term>(); }));
}

otter::task<otter::pid> svc_pid(std::string node) {
  otter::send(dist::remote_name{"svc", node}, term::tuple({term::atom("whoami"), term(otter::self())}));
  auto me = co_await term_where([](const term& t) { return t.is_tuple(2) && t[0].is_atom("me"); });
  co_return me ? (*me)[1].as_pid() : otter::pid{};
}

// ---------------------------------------------------------------- simultaneous connect

struct round_result {
  int in_order = 0;      // messages from the other node received, in order
  bool listed_once = false;
  int nodeups = 0;       // while the round's connection was up
  int nodedowns = 0;
  bool went_down = false; // after the disconnect
};

struct side_result {
  bool met = true;
  std::vector<round_result> rounds;
};

constexpr int simultaneous_rounds = 8;
constexpr int messages_per_round = 50;

/// One side: each round both sides send to the other's registered "box" as
/// their first act, at the same moment; then a disconnects and both wait for
/// the nodedown.
otter::process simultaneous_side(std::string other, bool disconnects, rendezvous* go, side_result* out,
                                 std::promise<void>* ready) {
  otter::register_name("box", otter::self());
  dist::monitor_nodes(true);
  ready->set_value();
  for (int round = 0; round < simultaneous_rounds; ++round) {
    round_result r;
    if (!co_await meet(*go)) {
      out->met = false;
      break;
    }
    for (int i = 0; i < messages_per_round; ++i)
      otter::send(dist::remote_name{"box", other}, term::tuple({term::atom("n"), term(round), term(i)}));
    for (int i = 0; i < messages_per_round; ++i) {
      auto m = co_await term_where([](const term& t) { return t.is_tuple(3) && t[0].is_atom("n"); });
      if (!m || (*m)[1] != term(round) || (*m)[2] != term(i)) break;
      ++r.in_order;
    }
    // Both have received everything: the connections have settled.
    otter::send(dist::remote_name{"box", other}, term::tuple({term::atom("done"), term(round)}));
    auto done = co_await term_where([round](const term& t) { return t.is_tuple(2) && t[0].is_atom("done") && t[1] == term(round); });
    r.listed_once = done.has_value() && dist::nodes() == std::vector<std::string>{other};
    for (int i = 0; i < 100; ++i) {
      const int what = co_await otter::receive([](dist::nodeup) { return 1; }, [](dist::nodedown) { return 2; },
                                               otter::after(std::chrono::nanoseconds(0), [] { return 0; }));
      if (what == 0) break;
      (what == 1 ? r.nodeups : r.nodedowns) += 1;
    }
    if (!co_await meet(*go)) { // both have counted before either disconnects
      out->met = false;
      break;
    }
    if (disconnects) dist::disconnect(other);
    r.went_down = co_await otter::receive([](dist::nodedown) { return true; }, otter::after(patience, [] { return false; }));
    out->rounds.push_back(r);
  }
}

// ---------------------------------------------------------------- raw peers

/// Where node `alive` listens, from the epmd on `epmd_port`.
otter::task<std::optional<otter::net::address>> listen_address_of(std::uint16_t epmd_port, std::string alive) {
  const otter::net::address epmd = otter::net::address::loopback_v4(epmd_port);
  auto found = co_await dist::epmd_port_please(epmd, alive);
  if (!found) co_return std::nullopt;
  co_return epmd.with_port(found->port);
}

/// A send_name of `name` (the first handshake message of a node dialing).
std::string send_name_of(const std::string& name) {
  dist::handshake_config c;
  c.our_name = name;
  c.our_creation = 99;
  c.cookie = cookie;
  dist::handshake hs = dist::handshake::initiator(c, "a@localhost");
  std::string out;
  hs.start(out);
  return out;
}

/// Connects to `at` as `name` and completes the handshake: true if it did.
otter::task<bool> full_handshake(otter::net::address at, std::string name) {
  auto s = co_await otter::net::tcp_socket::connect(at, patience);
  if (!s) co_return false;
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
      if (!sent) co_return false;
      out.clear();
    }
    auto got = co_await s->recv(patience);
    if (!got || got->empty()) co_return false;
    hs.feed(*got, out);
  }
  co_return hs.get_state() == dist::handshake::state::done;
}

otter::process linked_child(otter::pid tester) {
  otter::send(tester, term::tuple({term::atom("started"), term(otter::self())}));
  otter::send(dist::remote_name{"svc", "b@localhost"}, term::tuple({term::atom("spawn"), term(otter::self())}));
  auto spawned = co_await term_where([](const term& t) { return t.is_tuple(2) && t[0].is_atom("spawned"); },
                                     std::chrono::seconds(5));
  if (!spawned) co_return; // b is gone (the restarted child): nothing to link to
  otter::link((*spawned)[1].as_pid());
  otter::send(tester, term::tuple({term::atom("linked"), (*spawned)[1]}));
  co_await otter::receive([](term) {}, otter::after(patience * 3, [] {}));
}

} // namespace

TEST_CASE("reconnect - two nodes that connect to each other at once end with one connection, losing no message",
          "[dist]") {
  const std::uint16_t epmd_port = free_port();
  rendezvous go(2);
  side_result a_out, b_out;
  log_capture a_log, b_log;
  {
    std::promise<void> a_ready, b_ready;
    otter::node_options ao = named("a@localhost", epmd_port, dist::epmd_mode::serve);
    ao.log.sink = a_log.sink();
    node_thread a(std::move(ao), simultaneous_side, std::string("b@localhost"), true, &go, &a_out, &a_ready);
    a_ready.get_future().wait();
    otter::node_options bo = named("b@localhost", epmd_port, dist::epmd_mode::use);
    bo.log.sink = b_log.sink();
    node_thread b(std::move(bo), simultaneous_side, std::string("a@localhost"), false, &go, &b_out, &b_ready);
    b.join();
    a.join();
    CHECK(a.rc == 0);
    CHECK(b.rc == 0);
  }
  for (const side_result* s : {&a_out, &b_out}) {
    CHECK(s->met);
    REQUIRE(s->rounds.size() == simultaneous_rounds);
    for (const round_result& r : s->rounds) {
      CHECK(r.in_order == messages_per_round);
      CHECK(r.listed_once);
      CHECK(r.nodeups == 1);
      CHECK(r.nodedowns == 0);
      CHECK(r.went_down);
    }
  }
  // One connection per round on each side: as many ups (and downs) as rounds.
  for (const log_capture* l : {&a_log, &b_log}) {
    int ups = 0, downs = 0;
    for (const auto& n : l->of<otter::node_report>()) {
      ups += n.what == otter::node_report::event::up;
      downs += n.what == otter::node_report::event::down;
    }
    CHECK(ups == simultaneous_rounds);
    CHECK(downs == simultaneous_rounds);
  }
}

TEST_CASE("reconnect - a pid of a restarted node names a dead process: sends are dropped, links and monitors get "
          "noconnection",
          "[dist]") {
  const std::uint16_t epmd_port = free_port();
  run(named("a@localhost", epmd_port, dist::epmd_mode::serve), [epmd_port]() -> otter::process {
    std::optional<b_node> b;
    co_await otter::blocking([&] { b.emplace(epmd_port); });
    const otter::pid old_svc = co_await svc_pid("b@localhost");
    REQUIRE(old_svc);
    dist::monitor_node("b@localhost");
    const bool stopped = co_await stop_b();
    REQUIRE(stopped);
    auto down = co_await otter::receive([](dist::nodedown) { return true; }, otter::after(patience, [] { return false; }));
    REQUIRE(down);
    co_await otter::blocking([&] {
      b.reset(); // joins the old b
      b.emplace(epmd_port);
    });
    const otter::pid new_svc = co_await svc_pid("b@localhost");
    REQUIRE(new_svc);
    CHECK(new_svc != old_svc);
    CHECK(dist::node_of(old_svc) == "b@localhost");
    // Both go over the one connection, in order: the stale one would come back first.
    otter::send(old_svc, term::tuple({term::atom("echo"), term(otter::self()), term::atom("stale")}));
    otter::send(dist::remote_name{"svc", "b@localhost"},
                term::tuple({term::atom("echo"), term(otter::self()), term::atom("fresh")}));
    auto back = co_await term_where([](const term& t) { return t.is_atom(); });
    REQUIRE(back);
    CHECK(back->is_atom("fresh"));
    otter::trap_exit(true);
    otter::link(old_svc);
    auto exit = co_await exit_from(old_svc);
    REQUIRE(exit);
    CHECK(exit->reason == otter::exit_reason::noconnection());
    auto mdown = co_await down_of(otter::monitor(old_svc));
    REQUIRE(mdown);
    CHECK(mdown->reason == otter::exit_reason::noconnection());
    const bool stopped_again = co_await stop_b();
    CHECK(stopped_again);
  });
}

TEST_CASE("reconnect - a supervised child linked to a process on a node that stops exits with noconnection and is "
          "restarted",
          "[dist]") {
  const std::uint16_t epmd_port = free_port();
  run(named("a@localhost", epmd_port, dist::epmd_mode::serve), [epmd_port]() -> otter::process {
    std::optional<b_node> b;
    co_await otter::blocking([&] { b.emplace(epmd_port); });
    otter::supervisor_flags f;
    f.intensity = 5;
    std::vector<otter::child_spec> specs{otter::child_spec::worker("linked", linked_child, otter::self())};
    auto sup = co_await otter::supervisor::start_link(f, std::move(specs));
    REQUIRE(sup);
    auto first = co_await term_where([](const term& t) { return t.is_tuple(2) && t[0].is_atom("started"); });
    REQUIRE(first);
    const otter::pid child = (*first)[1].as_pid();
    auto linked = co_await term_where([](const term& t) { return t.is_tuple(2) && t[0].is_atom("linked"); });
    REQUIRE(linked);
    const otter::ref m = otter::monitor(child);
    const bool stopped = co_await stop_b();
    REQUIRE(stopped);
    auto down = co_await down_of(m);
    REQUIRE(down);
    CHECK(down->reason == otter::exit_reason::noconnection());
    auto second = co_await term_where([](const term& t) { return t.is_tuple(2) && t[0].is_atom("started"); });
    REQUIRE(second);
    CHECK((*second)[1].as_pid() != child);
    co_await otter::blocking([&] { b.reset(); });
  });
}

TEST_CASE("reconnect - peers that vanish mid-handshake leave an established connection up and the node accepting",
          "[dist]") {
  const std::uint16_t epmd_port = free_port();
  log_capture log;
  otter::node_options o = named("a@localhost", epmd_port, dist::epmd_mode::serve);
  o.log.sink = log.sink();
  run(std::move(o), [epmd_port]() -> otter::process {
    std::optional<b_node> b;
    co_await otter::blocking([&] { b.emplace(epmd_port); });
    const bool up = co_await dist::connect("b@localhost");
    REQUIRE(up);
    dist::monitor_node("b@localhost");
    auto at = co_await listen_address_of(epmd_port, "a");
    REQUIRE(at);
    // A connect that closes at once.
    {
      auto s = co_await otter::net::tcp_socket::connect(*at, patience);
      REQUIRE(s);
    }
    // Half a send_name, then gone.
    {
      auto s = co_await otter::net::tcp_socket::connect(*at, patience);
      REQUIRE(s);
      const std::string half = send_name_of("ghost@localhost").substr(0, 9);
      auto sent = co_await s->send(half);
      CHECK(sent);
    }
    // A send_name under the connected peer's name: a answers alive; then gone.
    {
      auto s = co_await otter::net::tcp_socket::connect(*at, patience);
      REQUIRE(s);
      auto sent = co_await s->send(send_name_of("b@localhost"));
      CHECK(sent);
      auto status = co_await s->recv(patience);
      REQUIRE(status);
      CHECK(status->find("salive") != std::string::npos);
    }
    // Half a send_name that stays open.
    auto held = co_await otter::net::tcp_socket::connect(*at, patience);
    REQUIRE(held);
    const std::string half = send_name_of("slow@localhost").substr(0, 5);
    auto sent = co_await held->send(half);
    CHECK(sent);
    // The node still accepts: a new peer completes its handshake.
    const bool accepted = co_await full_handshake(*at, "c@localhost");
    CHECK(accepted);
    // The connection to b is the one it was: nothing went down, and it carries messages.
    otter::send(dist::remote_name{"svc", "b@localhost"},
                term::tuple({term::atom("echo"), term(otter::self()), term::atom("still_up")}));
    auto back = co_await term_where([](const term& t) { return t.is_atom("still_up"); });
    CHECK(back);
    const bool went_down = co_await otter::receive([](dist::nodedown) { return true; },
                                                   otter::after(std::chrono::nanoseconds(0), [] { return false; }));
    CHECK_FALSE(went_down);
    const std::vector<std::string> now = dist::nodes();
    CHECK(std::count(now.begin(), now.end(), "b@localhost") == 1);
    const bool stopped = co_await stop_b();
    CHECK(stopped);
    const bool down = co_await otter::receive([](dist::nodedown) { return true; },
                                              otter::after(patience, [] { return false; }));
    CHECK(down);
  });
  int b_ups = 0, b_downs = 0;
  for (const auto& n : log.of<otter::node_report>())
    if (n.node == "b@localhost") {
      b_ups += n.what == otter::node_report::event::up;
      b_downs += n.what == otter::node_report::event::down;
    }
  CHECK(b_ups == 1);
  CHECK(b_downs == 1); // when b stopped at the end
}
