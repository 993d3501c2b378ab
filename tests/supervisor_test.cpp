#include <otter/supervisor.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <otter/gen_server.hpp>
#include <otter/link.hpp>
#include <otter/logger.hpp>
#include <otter/monitor.hpp>
#include <otter/node.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/timer.hpp>

#include "support/await.hpp"
#include "support/log_capture.hpp"
#include "support/otter_test.hpp"

using namespace otter_test;
namespace sup = otter::supervisor;

namespace {

// What the test workers tell the test process.
struct started {
  std::string name;
  otter::pid pid;
};
struct stopped {
  std::string name;
  otter::exit_reason reason;
};

enum class order { crash, quit, shut };

// A worker that reports its start, and exits when told: crash (abnormal),
// quit (normal) or shut ({shutdown, _}).
otter::process worker(otter::pid observer, std::string name) {
  otter::send(observer, started{name, otter::self()});
  const order o = co_await otter::receive<order>();
  if (o == order::crash) otter::exit(otter::exit_reason::custom("crash"));
  if (o == order::shut) otter::exit(otter::exit_reason::shutdown("asked"));
}

// Traps exits; reports the EXIT from its supervisor, then either exits with
// its reason or ignores it (stubborn).
otter::process trapping_worker(otter::pid observer, std::string name, bool stubborn) {
  otter::trap_exit(true);
  otter::send(observer, started{name, otter::self()});
  for (;;) {
    auto e = co_await otter::receive<otter::exit_message>();
    otter::send(observer, stopped{name, e.reason});
    if (!stubborn) otter::exit(e.reason);
  }
}

otter::task<started> next_start(std::string name) {
  auto s = co_await otter::receive(
      otter::when([&name](const started& st) { return st.name == name; }, [](started st) { return std::optional<started>(st); }),
      otter::after(patience, [] { return std::optional<started>(); }));
  if (!s) throw std::runtime_error("no start of " + name);
  co_return *s;
}

// No start of `name` arrives (on the deterministic node: none is pending).
otter::task<bool> no_start(std::string name) {
  co_return co_await otter::receive(
      otter::when([&name](const started& st) { return st.name == name; }, [](started) { return false; }),
      otter::after(100ms, [] { return true; }));
}

std::vector<otter::child_spec> three_workers(otter::pid me, otter::spawn_options where = {}) {
  return {otter::child_spec::worker("a", where, worker, me, std::string("a")),
          otter::child_spec::worker("b", where, worker, me, std::string("b")),
          otter::child_spec::worker("c", where, worker, me, std::string("c"))};
}

otter::supervisor_flags flags(otter::restart_strategy s, int intensity = 10) {
  otter::supervisor_flags f;
  f.strategy = s;
  f.intensity = intensity;
  f.period = std::chrono::milliseconds(10'000);
  return f;
}

} // namespace

TEST_CASE("supervisor - starts its children in order", "[supervisor]") {
  run(deterministic(), []() -> otter::process {
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), three_workers(otter::self()));
    REQUIRE(s);
    std::vector<std::string> order_seen;
    for (int i = 0; i < 3; ++i) order_seen.push_back((co_await otter::receive<started>()).name);
    CHECK(order_seen == std::vector<std::string>{"a", "b", "c"});
    auto children = co_await sup::which_children(s.value());
    REQUIRE(children.size() == 3);
    CHECK(children[0].id == "a");
    CHECK(children[2].id == "c");
    CHECK(children[1].pid);
  });
}

TEST_CASE("supervisor - stops its children in reverse order when it stops", "[supervisor]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid me = otter::self();
    std::vector<otter::child_spec> specs{
        otter::child_spec::worker("first", trapping_worker, me, std::string("first"), false),
        otter::child_spec::worker("second", trapping_worker, me, std::string("second"), false)};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), std::move(specs));
    REQUIRE(s);
    co_await next_start("first");
    co_await next_start("second");
    otter::unlink(s.value());
    const otter::ref m = otter::monitor(s.value());
    otter::exit(s.value(), otter::exit_reason::shutdown());
    auto a = co_await otter::receive<stopped>();
    auto b = co_await otter::receive<stopped>();
    CHECK(a.name == "second");
    CHECK(b.name == "first");
    CHECK(a.reason == otter::exit_reason::shutdown());
    auto down = co_await down_of(m);
    REQUIRE(down);
    CHECK(down->reason == otter::exit_reason::shutdown());
  });
}

TEST_CASE("one_for_one - restarts only the child that exited", "[supervisor][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), three_workers(otter::self(), where));
    REQUIRE(s);
    std::map<std::string, otter::pid> pids;
    for (int i = 0; i < 3; ++i) {
      auto st = co_await otter::receive<started>();
      pids[st.name] = st.pid;
    }
    otter::send(pids["b"], order::crash);
    auto again = co_await next_start("b");
    CHECK(again.pid != pids["b"]);
    auto children = co_await sup::which_children(s.value());
    CHECK(children[0].pid == pids["a"]);
    CHECK(children[2].pid == pids["c"]);
    CHECK(children[1].pid == again.pid);
  });
}

TEST_CASE("one_for_all - restarts every child when one exits", "[supervisor][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_all), three_workers(otter::self(), where));
    REQUIRE(s);
    std::map<std::string, otter::pid> pids;
    for (int i = 0; i < 3; ++i) {
      auto st = co_await otter::receive<started>();
      pids[st.name] = st.pid;
    }
    otter::send(pids["b"], order::crash);
    std::vector<std::string> restarted;
    for (int i = 0; i < 3; ++i) restarted.push_back((co_await next_start(i == 0 ? "a" : i == 1 ? "b" : "c")).name);
    CHECK(restarted == std::vector<std::string>{"a", "b", "c"});
    auto children = co_await sup::which_children(s.value());
    for (const auto& c : children) CHECK(c.pid != pids[c.id]);
  });
}

TEST_CASE("rest_for_one - restarts the child and those started after it", "[supervisor][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    auto s = co_await sup::start_link(flags(otter::restart_strategy::rest_for_one), three_workers(otter::self(), where));
    REQUIRE(s);
    std::map<std::string, otter::pid> pids;
    for (int i = 0; i < 3; ++i) {
      auto st = co_await otter::receive<started>();
      pids[st.name] = st.pid;
    }
    otter::send(pids["b"], order::crash);
    co_await next_start("b");
    co_await next_start("c");
    auto children = co_await sup::which_children(s.value());
    CHECK(children[0].pid == pids["a"]);
    CHECK(children[1].pid != pids["b"]);
    CHECK(children[2].pid != pids["c"]);
  });
}

TEST_CASE("simple_one_for_one - starts children on demand with extra arguments and restarts them", "[supervisor]") {
  run(deterministic(), []() -> otter::process {
    std::vector<otter::child_spec> spec{otter::child_spec::worker("conn", worker, otter::self())};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::simple_one_for_one), std::move(spec));
    REQUIRE(s);
    auto one = co_await sup::start_child(s.value(), std::string("one"));
    auto two = co_await sup::start_child(s.value(), std::string("two"));
    REQUIRE(one);
    REQUIRE(two);
    co_await next_start("one");
    co_await next_start("two");
    otter::send(one.value(), order::crash);
    auto again = co_await next_start("one"); // same arguments
    CHECK(again.pid != one.value());
    auto counts = co_await sup::count_children(s.value());
    CHECK(counts.active == 2);
    auto stop = co_await sup::terminate_child(s.value(), two.value());
    CHECK(stop);
    counts = co_await sup::count_children(s.value());
    CHECK(counts.active == 1);
    auto wrong = co_await sup::start_child(s.value(), 42); // not a std::string
    CHECK_FALSE(wrong);
  });
}

// Traps exits; on its supervisor's EXIT reports it, then holds on until told
// `go` before exiting with that reason.
otter::process lingering_worker(otter::pid observer, std::string name) {
  otter::trap_exit(true);
  otter::send(observer, started{name, otter::self()});
  auto e = co_await otter::receive<otter::exit_message>();
  otter::send(observer, stopped{name, e.reason});
  co_await otter::receive<order>();
  otter::exit(e.reason);
}

TEST_CASE("simple_one_for_one - its children are told to stop together, sharing one shutdown timeout",
          "[supervisor]") {
  run(deterministic(), []() -> otter::process {
    otter::trap_exit(true);
    std::vector<otter::child_spec> spec{otter::child_spec::worker("conn", lingering_worker, otter::self())
                                            .restart(otter::restart_type::temporary)
                                            .shutdown(otter::shutdown_spec::after(std::chrono::hours(1)))};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::simple_one_for_one), std::move(spec));
    REQUIRE(s);
    const std::vector<std::string> names{"one", "two", "three"};
    std::vector<otter::pid> children;
    for (const auto& n : names) {
      auto c = co_await sup::start_child(s.value(), n);
      REQUIRE(c);
      children.push_back(c.value());
      co_await next_start(n);
    }
    otter::exit(s.value(), otter::exit_reason::shutdown());
    // Every child hears of the shutdown while the others are still running.
    for (std::size_t i = 0; i < names.size(); ++i) {
      auto st = co_await otter::receive(otter::when([](const stopped&) { return true; }, [](stopped x) { return std::optional<stopped>(x); }),
                                        otter::after(patience, [] { return std::optional<stopped>(); }));
      REQUIRE(st);
      CHECK(st->reason == otter::exit_reason::shutdown());
    }
    for (otter::pid c : children) otter::send(c, order::quit);
    auto e = co_await otter::receive(
        otter::when([sup_pid = s.value()](const otter::exit_message& m) { return m.from == sup_pid; },
                    [](otter::exit_message m) { return m.reason; }));
    CHECK(e == otter::exit_reason::shutdown());
  });
}

TEST_CASE("restart intensity - too many restarts shut the supervisor down", "[supervisor]") {
  run(deterministic(), []() -> otter::process {
    otter::trap_exit(true);
    std::vector<otter::child_spec> specs{otter::child_spec::worker("w", worker, otter::self(), std::string("w")),
                                         otter::child_spec::worker("x", trapping_worker, otter::self(), std::string("x"), false)};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one, 2), std::move(specs));
    REQUIRE(s);
    co_await next_start("x");
    for (int i = 0; i < 3; ++i) { // two restarts are allowed; the third crash is one too many
      auto w = co_await next_start("w");
      otter::send(w.pid, order::crash);
    }
    auto x_stop = co_await otter::receive<stopped>(); // the other child was stopped
    CHECK(x_stop.name == "x");
    auto e = co_await exit_from(s.value());
    REQUIRE(e);
    CHECK(e->reason == otter::exit_reason::shutdown());
  });
}

TEST_CASE("restart types - permanent always, transient only after a crash, temporary never", "[supervisor]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid me = otter::self();
    std::vector<otter::child_spec> specs{
        otter::child_spec::worker("perm", worker, me, std::string("perm")),
        otter::child_spec::worker("trans", worker, me, std::string("trans")).restart(otter::restart_type::transient),
        otter::child_spec::worker("temp", worker, me, std::string("temp")).restart(otter::restart_type::temporary)};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), std::move(specs));
    REQUIRE(s);
    std::map<std::string, otter::pid> pids;
    for (int i = 0; i < 3; ++i) {
      auto st = co_await otter::receive<started>();
      pids[st.name] = st.pid;
    }
    otter::send(pids["perm"], order::quit); // normal exit: still restarted
    pids["perm"] = (co_await next_start("perm")).pid;
    otter::send(pids["trans"], order::quit); // normal: not restarted
    auto awaited1 = co_await no_start("trans");
    CHECK(awaited1);
    auto kept = co_await sup::restart_child(s.value(), "trans"); // its spec is kept
    CHECK(kept);
    pids["trans"] = (co_await next_start("trans")).pid;
    otter::send(pids["trans"], order::shut); // {shutdown, _}: not restarted either
    auto awaited2 = co_await no_start("trans");
    CHECK(awaited2);
    auto awaited3 = co_await sup::restart_child(s.value(), "trans");
    CHECK(awaited3);
    pids["trans"] = (co_await next_start("trans")).pid;
    otter::send(pids["trans"], order::crash); // abnormal: restarted
    co_await next_start("trans");
    otter::send(pids["temp"], order::crash); // never restarted, and forgotten
    auto awaited4 = co_await no_start("temp");
    CHECK(awaited4);
    auto children = co_await sup::which_children(s.value());
    CHECK(children.size() == 2);
  });
}

TEST_CASE("shutdown - brutal_kill kills a child that traps exits", "[supervisor]") {
  run(deterministic(), []() -> otter::process {
    std::vector<otter::child_spec> specs{otter::child_spec::worker("t", trapping_worker, otter::self(), std::string("t"), true)
                                             .shutdown(otter::shutdown_spec::brutal_kill())};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), std::move(specs));
    REQUIRE(s);
    auto t = co_await next_start("t");
    const otter::ref m = otter::monitor(t.pid);
    auto awaited5 = co_await sup::terminate_child(s.value(), "t");
    CHECK(awaited5);
    auto d = co_await down_of(m);
    REQUIRE(d);
    CHECK(d->reason == otter::exit_reason::killed());
    auto got = co_await otter::receive<stopped>(0ms);
    CHECK_FALSE(got); // it never saw a shutdown signal
  });
}

TEST_CASE("shutdown - a timeout kills a child that does not stop in time", "[supervisor]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid me = otter::self();
    std::vector<otter::child_spec> specs{
        otter::child_spec::worker("polite", trapping_worker, me, std::string("polite"), false)
            .shutdown(otter::shutdown_spec::after(std::chrono::milliseconds(50))),
        otter::child_spec::worker("stubborn", trapping_worker, me, std::string("stubborn"), true)
            .shutdown(otter::shutdown_spec::after(std::chrono::milliseconds(50)))};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), std::move(specs));
    REQUIRE(s);
    auto polite = co_await next_start("polite");
    auto stubborn = co_await next_start("stubborn");
    const otter::ref pm = otter::monitor(polite.pid);
    const otter::ref sm = otter::monitor(stubborn.pid);
    auto awaited6 = co_await sup::terminate_child(s.value(), "polite");
    CHECK(awaited6);
    auto awaited7 = co_await sup::terminate_child(s.value(), "stubborn");
    CHECK(awaited7);
    auto pd = co_await down_of(pm);
    auto sd = co_await down_of(sm);
    REQUIRE(pd);
    REQUIRE(sd);
    CHECK(pd->reason == otter::exit_reason::shutdown());
    CHECK(sd->reason == otter::exit_reason::killed());
  });
}

TEST_CASE("shutdown - infinity waits for the child however long it takes", "[supervisor]") {
  run(deterministic(), []() -> otter::process {
    struct slow_stop {
      static otter::process body(otter::pid observer) {
        otter::trap_exit(true);
        otter::send(observer, started{"slow", otter::self()});
        auto e = co_await otter::receive<otter::exit_message>();
        co_await otter::sleep(std::chrono::hours(1)); // takes its time
        otter::exit(e.reason);
      }
    };
    std::vector<otter::child_spec> specs{
        otter::child_spec::worker("slow", &slow_stop::body, otter::self()).shutdown(otter::shutdown_spec::infinity())};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), std::move(specs));
    REQUIRE(s);
    auto st = co_await next_start("slow");
    const otter::ref m = otter::monitor(st.pid);
    auto awaited8 = co_await sup::terminate_child(s.value(), "slow");
    CHECK(awaited8);
    auto d = co_await otter::receive<otter::down_message>(0ms); // already gone when terminate_child returned
    REQUIRE(d);
    CHECK(d->monitor == m);
    CHECK(d->reason == otter::exit_reason::shutdown());
  });
}

namespace {

class refuses {
public:
  void init() { throw std::runtime_error("not today"); }
  int handle_call(int n) { return n; }
};

// A gen_server child that announces itself from init.
class announcer {
public:
  void init(otter::pid observer, std::string name) {
    otter::send(observer, started{name, otter::self()});
  }
  void handle_cast(order o) {
    if (o == order::crash) otter::gen_server::stop_self(otter::exit_reason::custom("crash"));
  }
};

} // namespace

TEST_CASE("supervisor - a child that fails to start makes the supervisor's start fail", "[supervisor]") {
  otter::node_options o = deterministic();
  o.log.reports = false;
  run(o, []() -> otter::process {
    const otter::pid me = otter::self();
    std::vector<otter::child_spec> specs{otter::child_spec::worker("ok", trapping_worker, me, std::string("ok"), false),
                                         otter::child_spec::server<refuses>("broken")};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), std::move(specs));
    REQUIRE_FALSE(s);
    CHECK(s.error().get_kind() == otter::exit_reason::kind::shutdown);
    CHECK(s.error().detail().find("failed_to_start_child broken") != std::string_view::npos);
    CHECK(s.error().detail().find("not today") != std::string_view::npos);
    auto ok_stop = co_await otter::receive<stopped>(); // the child started before it was stopped again
    CHECK(ok_stop.name == "ok");
  });
}

TEST_CASE("supervisor - gen_server children are restarted and announce themselves from init", "[supervisor][cross-core]") {
  on_each_placement([](otter::spawn_options) -> otter::process {
    std::vector<otter::child_spec> specs{otter::child_spec::server<announcer>("srv", otter::self(), std::string("srv"))};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), std::move(specs));
    REQUIRE(s);
    auto first = co_await next_start("srv");
    otter::gen_server::cast(otter::server_ref<announcer>(first.pid), order::crash);
    auto second = co_await next_start("srv");
    CHECK(second.pid != first.pid);
  });
}

TEST_CASE("supervisor - start_child, terminate_child, restart_child, delete_child, count_children", "[supervisor]") {
  run(deterministic(), []() -> otter::process {
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), {});
    REQUIRE(s);
    const otter::pid me = otter::self();
    auto added = co_await sup::start_child(s.value(), otter::child_spec::worker("late", worker, me, std::string("late")));
    REQUIRE(added);
    co_await next_start("late");
    auto dup = co_await sup::start_child(s.value(), otter::child_spec::worker("late", worker, me, std::string("late")));
    CHECK(dup.error() == otter::exit_reason::custom("already_started"));
    auto counts = co_await sup::count_children(s.value());
    CHECK(counts.specs == 1);
    CHECK(counts.active == 1);
    CHECK(counts.workers == 1);
    auto busy = co_await sup::delete_child(s.value(), "late");
    CHECK(busy.error() == otter::exit_reason::custom("running"));
    auto awaited9 = co_await sup::terminate_child(s.value(), "late");
    CHECK(awaited9);
    counts = co_await sup::count_children(s.value());
    CHECK(counts.active == 0);
    auto again = co_await sup::restart_child(s.value(), "late");
    REQUIRE(again);
    co_await next_start("late");
    auto awaited10 = co_await sup::terminate_child(s.value(), "late");
    CHECK(awaited10);
    auto awaited11 = co_await sup::delete_child(s.value(), "late");
    CHECK(awaited11);
    counts = co_await sup::count_children(s.value());
    CHECK(counts.specs == 0);
    auto missing = co_await sup::restart_child(s.value(), "late");
    CHECK(missing.error() == otter::exit_reason::custom("not_found"));
  });
}

TEST_CASE("supervisor - nested trees: a supervisor that gives up is restarted by its own supervisor",
          "[supervisor][cross-core]") {
  on_each_placement([](otter::spawn_options where) -> otter::process {
    const otter::pid me = otter::self();
    std::vector<otter::child_spec> inner{otter::child_spec::worker("leaf", where, worker, me, std::string("leaf"))};
    std::vector<otter::child_spec> outer{sup::spec("inner", flags(otter::restart_strategy::one_for_one, 1), std::move(inner)),
                                         otter::child_spec::worker("sibling", where, worker, me, std::string("sibling"))};
    auto root = co_await sup::start_link(flags(otter::restart_strategy::one_for_one, 5), std::move(outer));
    REQUIRE(root);
    auto leaf = co_await next_start("leaf");
    auto sibling = co_await next_start("sibling");
    auto before = co_await sup::which_children(root.value());
    REQUIRE(before.size() == 2);
    CHECK(before[0].type == otter::child_type::supervisor);
    // Two crashes within the inner supervisor's intensity of 1: it gives up,
    // the root restarts it, and it starts a fresh leaf.
    otter::send(leaf.pid, order::crash);
    leaf = co_await next_start("leaf");
    otter::send(leaf.pid, order::crash);
    auto fresh = co_await next_start("leaf");
    CHECK(fresh.pid != leaf.pid);
    auto after = co_await sup::which_children(root.value());
    CHECK(after[0].pid != before[0].pid); // a new inner supervisor
    CHECK(after[1].pid == sibling.pid);    // one_for_one: the sibling was left alone
  });
}

TEST_CASE("supervisor - exits with its parent's reason, stopping its children", "[supervisor]") {
  run(deterministic(), []() -> otter::process {
    const otter::pid me = otter::self();
    // A parent process starts the supervisor and then dies.
    otter::pid parent = otter::spawn([](otter::pid observer) -> otter::process {
      std::vector<otter::child_spec> specs{
          otter::child_spec::worker("kid", trapping_worker, observer, std::string("kid"), false)};
      auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), std::move(specs));
      otter::send(observer, s.value());
      co_await otter::receive<double>();
    }, me);
    auto s = co_await otter::receive<otter::pid>();
    co_await next_start("kid");
    const otter::ref m = otter::monitor(s);
    otter::exit(parent, otter::exit_reason::custom("parent gone"));
    auto kid = co_await otter::receive<stopped>();
    CHECK(kid.reason == otter::exit_reason::shutdown());
    auto d = co_await down_of(m);
    REQUIRE(d);
    CHECK(d->reason == otter::exit_reason::custom("parent gone"));
  });
}

TEST_CASE("supervisor - random kills across a tree on both cores: every permanent child runs again",
          "[supervisor][stress][cross-core]") {
  otter::node_options o = two_cores();
  o.log.reports = false;
  run(o, []() -> otter::process {
    otter::trap_exit(true);
    const otter::pid me = otter::self();
    std::vector<otter::child_spec> teams;
    for (int t = 0; t < 4; ++t) {
      std::vector<otter::child_spec> members;
      for (int w = 0; w < 5; ++w) {
        std::string name = "t";
        name.append(std::to_string(t)).append("w").append(std::to_string(w));
        members.push_back(otter::child_spec::worker(name, otter::on_scheduler(static_cast<unsigned>(w % 2)), worker, me, name));
      }
      std::string team_id = "team";
      team_id.append(std::to_string(t));
      teams.push_back(sup::spec(team_id,
                                flags(t % 2 == 0 ? otter::restart_strategy::one_for_one : otter::restart_strategy::rest_for_one, 1000),
                                std::move(members)));
    }
    auto root = co_await sup::start_link(flags(otter::restart_strategy::one_for_one, 1000), std::move(teams));
    REQUIRE(root);
    std::mt19937 rng(7);
    for (int round = 0; round < 300; ++round) {
      // Pick a team and a member, and kill it one way or another.
      auto teams_now = co_await sup::which_children(root.value());
      auto& team = teams_now[rng() % teams_now.size()];
      if (!team.pid) continue;
      auto members = co_await sup::which_children(team.pid);
      auto& victim = members[rng() % members.size()];
      if (!victim.pid) continue;
      switch (rng() % 3) {
      case 0: otter::exit(victim.pid, otter::exit_reason::kill()); break;
      case 1: otter::send(victim.pid, order::crash); break;
      default: otter::send(victim.pid, order::quit); break; // permanent: restarted too
      }
      // Drain start reports as they come.
      while (co_await otter::receive([](started) { return true; }, otter::after(0ms, [] { return false; }))) {
      }
    }
    // Let the restarts settle: ask each team (its calls queue behind its restarts).
    bool all_running = true;
    for (const auto& team : co_await sup::which_children(root.value())) {
      all_running &= bool(team.pid);
      if (!team.pid) continue;
      for (const auto& member : co_await sup::which_children(team.pid)) all_running &= bool(member.pid);
    }
    CHECK(all_running);
    otter::exit(root.value(), otter::exit_reason::shutdown());
    auto e = co_await exit_from(root.value());
    REQUIRE(e);
    CHECK(e->reason == otter::exit_reason::shutdown());
  });
}

// ---------------------------------------------------------------- reports

namespace {

// A worker that throws when told to crash: a crash, with a crash report.
otter::process thrower(otter::pid observer, std::string name) {
  otter::send(observer, started{name, otter::self()});
  co_await otter::receive<order>();
  throw std::runtime_error(name + " broke");
}

// A gen_server child whose init spawns (linked) a helper of its own.
class with_helper {
public:
  void init(otter::pid observer) {
    otter::trap_exit(true); // the helper's crash must not take the server along
    otter::spawn_link(thrower, observer, std::string("helper"));
  }
};

// The crash report of a supervisor's child, on a node with these options,
// for a child placed as `where` says.
void crash_report_names_the_child(otter::node_options o, otter::spawn_options where) {
  log_capture log;
  o.log.sink = log.sink();
  struct seen {
    otter::pid top, inner, db, leaf;
  } ids;
  run(o, [](otter::spawn_options at, seen* out) -> otter::process {
    const otter::pid me = otter::self();
    std::vector<otter::child_spec> inner{otter::child_spec::worker("leaf", at, thrower, me, std::string("leaf"))};
    std::vector<otter::child_spec> specs{otter::child_spec::worker("db", at, thrower, me, std::string("db")),
                                         sup::spec("inner", flags(otter::restart_strategy::one_for_one), std::move(inner))};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), std::move(specs), "top");
    REQUIRE(s);
    out->top = s.value();
    out->db = (co_await next_start("db")).pid;
    out->leaf = (co_await next_start("leaf")).pid;
    out->inner = (co_await sup::which_children(s.value()))[1].pid;
    otter::send(out->db, order::crash);
    co_await next_start("db"); // restarted: the crash was seen
    otter::send(out->leaf, order::crash);
    co_await next_start("leaf");
  }, where, &ids);
  const auto crashes = log.of<otter::crash_report>();
  REQUIRE(crashes.size() == 2);
  CHECK(crashes[0].process == ids.db);
  CHECK(crashes[0].child_id == "db");
  CHECK(crashes[0].supervisor == ids.top);
  CHECK(crashes[0].supervisor_name == "top");
  CHECK(crashes[0].to_string().find("; child db of supervisor " + otter::to_string(ids.top) + " (top)") !=
        std::string::npos);
  CHECK(crashes[1].process == ids.leaf);
  CHECK(crashes[1].child_id == "leaf");
  CHECK(crashes[1].supervisor == ids.inner);
  CHECK(crashes[1].supervisor_name.empty());
}

} // namespace

TEST_CASE("supervisor report - a child's abnormal exit is reported as child_terminated, naming supervisor and child",
          "[supervisor][report]") {
  log_capture log;
  otter::node_options o = deterministic();
  o.log.sink = log.sink();
  otter::pid top, first;
  run(o, [](otter::pid* sup_out, otter::pid* child_out) -> otter::process {
    std::vector<otter::child_spec> specs{otter::child_spec::worker("db", worker, otter::self(), std::string("db"))};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), std::move(specs), "top");
    REQUIRE(s);
    *sup_out = s.value();
    *child_out = (co_await next_start("db")).pid;
    otter::send(*child_out, order::crash);
    co_await next_start("db");
  }, &top, &first);
  const auto reports = log.of<otter::supervisor_report>();
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].what == otter::supervisor_report::context::child_terminated);
  CHECK(reports[0].supervisor == top);
  CHECK(reports[0].supervisor_name == "top");
  CHECK(reports[0].child_id == "db");
  CHECK(reports[0].child == first);
  CHECK(reports[0].reason == otter::exit_reason::custom("crash"));
  CHECK(reports[0].to_string() == "otter: supervisor " + otter::to_string(top) + " (top) child_terminated: child db " +
                                      otter::to_string(first) + ", reason crash");
}

TEST_CASE("supervisor report - a normal exit is reported only for a permanent child", "[supervisor][report]") {
  log_capture log;
  otter::node_options o = deterministic();
  o.log.sink = log.sink();
  run(o, []() -> otter::process {
    const otter::pid me = otter::self();
    std::vector<otter::child_spec> specs{
        otter::child_spec::worker("t", worker, me, std::string("t")).restart(otter::restart_type::transient),
        otter::child_spec::worker("tmp", worker, me, std::string("tmp")).restart(otter::restart_type::temporary),
        otter::child_spec::worker("p", worker, me, std::string("p"))};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), std::move(specs));
    REQUIRE(s);
    const otter::pid t = (co_await next_start("t")).pid;
    const otter::pid tmp = (co_await next_start("tmp")).pid;
    const otter::pid p = (co_await next_start("p")).pid;
    otter::send(t, order::quit);
    otter::send(tmp, order::shut);
    otter::send(p, order::quit);
    co_await next_start("p"); // the supervisor has seen all three exits
  });
  const auto reports = log.of<otter::supervisor_report>();
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].child_id == "p");
  CHECK(reports[0].reason == otter::exit_reason::normal());
}

TEST_CASE("supervisor report - a child that fails to start is reported as start_error with the reason",
          "[supervisor][report]") {
  log_capture log;
  otter::node_options o = deterministic();
  o.log.sink = log.sink();
  run(o, []() -> otter::process {
    std::vector<otter::child_spec> specs{otter::child_spec::server<refuses>("broken")};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), std::move(specs), "top");
    REQUIRE_FALSE(s);
  });
  const auto reports = log.of<otter::supervisor_report>();
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].what == otter::supervisor_report::context::start_error);
  CHECK(reports[0].supervisor);
  CHECK(reports[0].supervisor_name == "top");
  CHECK(reports[0].child_id == "broken");
  CHECK(!reports[0].child);
  CHECK(reports[0].reason.detail() == "not today");
}

TEST_CASE("supervisor report - giving up at the restart intensity is reported as shutdown, "
          "reached_max_restart_intensity",
          "[supervisor][report]") {
  log_capture log;
  otter::node_options o = deterministic();
  o.log.sink = log.sink();
  otter::pid top, last;
  run(o, [](otter::pid* sup_out, otter::pid* child_out) -> otter::process {
    otter::trap_exit(true);
    std::vector<otter::child_spec> specs{otter::child_spec::worker("w", worker, otter::self(), std::string("w"))};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one, 1), std::move(specs));
    REQUIRE(s);
    *sup_out = s.value();
    otter::send((co_await next_start("w")).pid, order::crash); // one restart is allowed
    *child_out = (co_await next_start("w")).pid;
    otter::send(*child_out, order::crash); // the second is one too many
    auto e = co_await exit_from(s.value());
    REQUIRE(e);
  }, &top, &last);
  const auto reports = log.of<otter::supervisor_report>();
  REQUIRE(reports.size() == 3);
  CHECK(reports[0].what == otter::supervisor_report::context::child_terminated);
  CHECK(reports[1].what == otter::supervisor_report::context::child_terminated);
  CHECK(reports[1].child == last);
  CHECK(reports[2].what == otter::supervisor_report::context::shutdown);
  CHECK(reports[2].supervisor == top);
  CHECK(reports[2].child_id == "w");
  CHECK(reports[2].child == last);
  CHECK(reports[2].reason == otter::exit_reason::custom("reached_max_restart_intensity"));
}

TEST_CASE("supervisor report - a simple_one_for_one child is reported under its spec's id", "[supervisor][report]") {
  log_capture log;
  otter::node_options o = deterministic();
  o.log.sink = log.sink();
  run(o, []() -> otter::process {
    std::vector<otter::child_spec> specs{otter::child_spec::worker("job", thrower)};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::simple_one_for_one), std::move(specs));
    REQUIRE(s);
    auto child = co_await sup::start_child(s.value(), otter::self(), std::string("job"));
    REQUIRE(child);
    co_await next_start("job");
    otter::send(child.value(), order::crash);
    co_await next_start("job"); // restarted: the supervisor has seen the exit
  });
  const auto crashes = log.of<otter::crash_report>();
  const auto reports = log.of<otter::supervisor_report>();
  REQUIRE(crashes.size() == 1);
  CHECK(crashes[0].child_id == "job");
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].child_id == "job");
}

TEST_CASE("supervisor - a crashed child's crash report names its id and its supervisor",
          "[supervisor][report][cross-core]") {
  SECTION("on one core") { crash_report_names_the_child(deterministic(), otter::spawn_options{}); }
  SECTION("across cores") { crash_report_names_the_child(two_cores(), otter::on_scheduler(1)); }
}

TEST_CASE("supervisor - what a child spawns is not named as the supervisor's child", "[supervisor][report]") {
  log_capture log;
  otter::node_options o = deterministic();
  o.log.sink = log.sink();
  otter::pid helper;
  run(o, [](otter::pid* out) -> otter::process {
    // The helper is spawned from the server's init, while the supervisor
    // still waits for that init to finish.
    std::vector<otter::child_spec> specs{otter::child_spec::server<with_helper>("srv", otter::self())};
    auto s = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), std::move(specs));
    REQUIRE(s);
    *out = (co_await next_start("helper")).pid;
    const otter::ref m = otter::monitor(*out);
    otter::send(*out, order::crash);
    auto d = co_await down_of(m);
    REQUIRE(d);
  }, &helper);
  const auto crashes = log.of<otter::crash_report>();
  REQUIRE(crashes.size() == 1);
  CHECK(crashes[0].process == helper);
  CHECK(!crashes[0].supervisor);
  CHECK(crashes[0].child_id.empty());
}
