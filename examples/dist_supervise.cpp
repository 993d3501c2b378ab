// dist_supervise: an otter supervisor over work that runs on an Erlang node.
//
//   build/examples/dist_supervise --name sup@localhost --cookie secret [--epmd-port P] work@localhost
//
// The Erlang node runs examples/erlang/otter_work.erl (see the README,
// "Joining an Erlang cluster"):
//   erlc -o /tmp examples/erlang/otter_work.erl
//   erl -sname work@localhost -setcookie secret -pa /tmp -noshell -eval 'otter_work:start()'
//
// The supervisor's child, `relay`, asks the Erlang node's `otter_work` server
// for a worker, links to it, and sends it jobs 1, 2, 3... printing each
// result. The Erlang worker crashes on every seventh job; when it does, or
// when the Erlang node goes away, the link brings the relay down with the
// worker's reason (or `noconnection`) and the supervisor starts a new relay,
// which asks for a new worker and goes on with the next job. While the Erlang
// node cannot be reached, each relay waits two seconds and exits `noconnection`,
// so the supervisor keeps trying. Runs until SIGINT or SIGTERM.

#include <otter/otter.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "dist_args.hpp"

using namespace std::chrono_literals;
using otter::term;

namespace {

/// The job numbers, shared by every relay the supervisor starts: a restarted
/// relay goes on with the next job instead of repeating the one that crashed.
struct job_queue {
  std::atomic<long> next{1};
};

struct never {};

void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

enum class outcome { result, link_broke, timeout };

otter::process relay(std::string work_node, std::shared_ptr<job_queue> jobs) {
  otter::trap_exit(true); // a broken link is a message: the relay says why, then exits with the reason
  const bool up = co_await otter::dist::connect(work_node);
  if (!up) {
    say("relay: " + work_node + " cannot be reached; exiting noconnection");
    co_await otter::sleep(2s); // the pace of the supervisor's retries
    otter::exit(otter::exit_reason::noconnection());
  }

  // Ask the Erlang node for a worker: {start_worker, self()} → {worker, Pid}.
  const otter::dist::remote_name server{"otter_work", work_node};
  otter::send(server, term::tuple({term::atom("start_worker"), term(otter::self())}));
  std::optional<otter::pid> worker = co_await otter::receive(
      otter::when([](const term& t) { return t.is_tuple(2) && t[0].is_atom("worker") && t[1].is_pid(); },
                  [](term t) { return std::optional<otter::pid>(t[1].as_pid()); }),
      otter::after(5s, [] { return std::optional<otter::pid>(); }));
  if (!worker) {
    say("relay: no worker from " + work_node + " (is otter_work started there?)");
    otter::exit(otter::exit_reason::timeout());
  }
  otter::link(*worker); // its crash, or the node's loss, now brings this relay down
  say("relay: linked to worker " + otter::to_string(*worker) + " on " + work_node);

  for (;;) {
    const long n = jobs->next.fetch_add(1);
    otter::send(*worker, term::tuple({term::atom("job"), term(otter::self()), term(n)}));
    term answer;
    otter::exit_message broke;
    const outcome o = co_await otter::receive(
        otter::when([n](const term& t) { return t.is_tuple(3) && t[0].is_atom("result") && t[1] == term(n); },
                    [&answer](term t) {
                      answer = std::move(t);
                      return outcome::result;
                    }),
        [&broke](otter::exit_message e) {
          broke = std::move(e);
          return outcome::link_broke;
        },
        otter::after(5s, [] { return outcome::timeout; }));
    if (o == outcome::link_broke) {
      std::string why = broke.reason.to_string(); // an Erlang crash's reason carries its stack: cut it short
      if (why.size() > 100) why = why.substr(0, 100) + "...";
      say("relay: " + (broke.from == *worker ? "worker " + otter::to_string(*worker) : otter::to_string(broke.from)) +
          " exited: " + why);
      otter::exit(broke.reason);
    }
    if (o == outcome::timeout) {
      say("relay: no answer to job " + std::to_string(n));
      otter::exit(otter::exit_reason::timeout());
    }
    say("job " + std::to_string(n) + ": 60 div (" + std::to_string(n) + " rem 7) = " + otter::to_string(answer[2]));
    co_await otter::sleep(200ms); // the pace of the demonstration
  }
}

otter::process node_main(std::string work_node) {
  otter::supervisor_flags flags;
  flags.strategy = otter::restart_strategy::one_for_one;
  flags.intensity = 30; // generous: while the Erlang node is away, a relay exits every two seconds
  flags.period = 30s;
  auto jobs = std::make_shared<job_queue>();
  std::vector<otter::child_spec> children{otter::child_spec::worker("relay", relay, work_node, jobs)};
  auto sup = co_await otter::supervisor::start_link(flags, std::move(children));
  if (!sup) otter::exit(otter::exit_reason::error("supervisor", "the supervisor did not start"));
  say("dist_supervise: node " + otter::dist::this_node() + " supervising work on " + work_node);
  co_await otter::receive([](never) {}); // until SIGINT/SIGTERM stops the node (and the tree)
}

} // namespace

int main(int argc, char** argv) {
  otter::node_options o;
  o.stop_on_signals = true;
  o.distribution.name = "sup@localhost";
  const dist_args::command_line c = dist_args::parse(argc, argv, o.distribution, false);
  if (!c.error.empty() || c.operands.size() != 1) {
    dist_args::usage(argv[0], c, "sup@localhost", false, "WORK_NODE",
                     "  WORK_NODE     the Erlang node running otter_work (examples/erlang/otter_work.erl)\n");
    return 2;
  }
  try {
    otter::node node(std::move(o));
    return node.run(node_main, c.operands[0]);
  } catch (const otter::dist::start_error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
