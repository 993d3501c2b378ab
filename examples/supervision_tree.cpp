// supervision_tree: crashes are contained, noticed and repaired.
//
//   root (one_for_one)
//   ├── services (rest_for_one)
//   │   ├── database   — a worker
//   │   └── cache      — depends on the database: restarted after it
//   └── jobs (simple_one_for_one) — workers started on demand
//
// Every worker tells the main process (registered as "narrator") when it
// starts; a `crash` message makes it throw. Run: build/examples/supervision_tree

#include <otter/otter.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <variant>

using namespace std::chrono_literals;
namespace sup = otter::supervisor;

struct crash {};
struct started {
  std::string name;
  otter::pid pid;
  int core;
};

otter::process worker(std::string name) {
  otter::send("narrator", started{name, otter::self(), otter::this_scheduler()});
  co_await otter::receive<crash>();
  throw std::runtime_error(name + " hit a bug"); // let it crash
}

// A job gets its number as the extra argument of start_child.
otter::process job(int number) { return worker("job " + std::to_string(number)); }

// Waits for `name` to (re)start, prints it, returns its pid.
otter::task<otter::pid> wait_start(const std::string& name) {
  const started s = co_await otter::receive(
      otter::when([&name](const started& st) { return st.name == name; }, [](started st) { return st; }));
  std::printf("  %-9s started as %s on core %d\n", s.name.c_str(), otter::to_string(s.pid).c_str(), s.core);
  co_return s.pid;
}

otter::supervisor_flags flags(otter::restart_strategy s, int intensity) {
  otter::supervisor_flags f;
  f.strategy = s;
  f.intensity = intensity; // at most this many restarts...
  f.period = 5s;           // ...within this period, or the supervisor gives up
  return f;
}

otter::process main_process() {
  otter::register_name("narrator", otter::self());
  std::printf("starting the tree:\n");
  std::vector<otter::child_spec> services{otter::child_spec::worker("database", worker, std::string("database")),
                                          otter::child_spec::worker("cache", otter::spread(), worker, std::string("cache"))};
  std::vector<otter::child_spec> jobs{otter::child_spec::worker("job", job).restart(otter::restart_type::transient)};
  std::vector<otter::child_spec> tree{
      sup::spec("services", flags(otter::restart_strategy::rest_for_one, 3), std::move(services)),
      sup::spec("jobs", flags(otter::restart_strategy::simple_one_for_one, 3), std::move(jobs))};
  const otter::pid root = (co_await sup::start_link(flags(otter::restart_strategy::one_for_one, 2), std::move(tree))).value();
  otter::pid database = co_await wait_start("database");
  otter::pid cache = co_await wait_start("cache");

  const otter::pid jobs_sup = (co_await sup::which_children(root))[1].pid;
  co_await sup::start_child(jobs_sup, 1);
  const otter::pid job1 = co_await wait_start("job 1");
  co_await sup::start_child(jobs_sup, 2);
  co_await wait_start("job 2");

  std::printf("\nthe database crashes: rest_for_one restarts it, then the cache after it\n");
  otter::send(database, crash{});
  database = co_await wait_start("database");
  cache = co_await wait_start("cache");

  std::printf("\njob 1 crashes: only job 1 is restarted, with its argument\n");
  otter::send(job1, crash{});
  co_await wait_start("job 1");

  std::printf("\nthe cache keeps crashing. 'services' has restarted once already; after\n"
              "3 restarts in 5 s it gives up and exits with `shutdown`, and the root\n"
              "restarts the whole subtree\n");
  for (int i = 0; i < 3; ++i) {
    otter::send(cache, crash{});
    if (i < 2) cache = co_await wait_start("cache");
  }
  database = co_await wait_start("database"); // a new 'services' starts both again
  cache = co_await wait_start("cache");

  const auto counts = co_await sup::count_children(root);
  std::printf("\nroot supervises %zu children, %zu running; shutting the tree down\n", counts.specs, counts.active);
}

int main() {
  try {
    otter::node_options options;
    // Crash and supervisor reports go to stderr by default, written by the
    // node's logger thread; here they are part of the story.
    options.log.sink = [](const otter::log_record& r) {
      if (auto* c = std::get_if<otter::crash_report>(&r)) {
        std::printf("  ! %s (child %s) crashed: %s\n", otter::to_string(c->process).c_str(), c->child_id.c_str(),
                    c->reason.to_string().c_str());
      } else if (auto* s = std::get_if<otter::supervisor_report>(&r)) {
        if (s->what == otter::supervisor_report::context::shutdown)
          std::printf("  ! a supervisor gives up after %s exited: %s\n", s->child_id.c_str(), s->reason.to_string().c_str());
      }
    };
    otter::node node(options);
    return node.run(main_process);
  } catch (const otter::runtime_unavailable& e) {
    // The kernel refused io_uring (a seccomp policy, an old kernel...): say why.
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
