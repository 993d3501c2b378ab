// caf-workloads — the CAF 0.17 peer for otter's side-by-side benchmarks.
//
// Usage: caf-workloads WORKLOAD [--quick]
//
// Runs one workload (defined in this folder's README.md) and prints exactly
// one line to stdout, `caf <workload> <value> <unit>`; diagnostics go to
// stderr. Every workload is written the way CAF's manual recommends:
// event-based actors (function-based or stateful), asynchronous `send`,
// handlers that return their reply, `request(...).then(...)` for calls,
// links and monitors for failure propagation. Each workload has a driver
// actor that sets things up, reads std::chrono::steady_clock around the
// measured part only, and sends the figure to `main`, which waits for it for
// at most 120 s.

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

// Upper bound for every wait; a run that exceeds it fails instead of hanging.
constexpr auto wait_limit = std::chrono::seconds(120);

using ping_atom = caf::atom_constant<caf::atom("ping")>;
using pong_atom = caf::atom_constant<caf::atom("pong")>;
using call_atom = caf::atom_constant<caf::atom("call")>;
using hello_atom = caf::atom_constant<caf::atom("hello")>;
using ready_atom = caf::atom_constant<caf::atom("ready")>;
using start_atom = caf::atom_constant<caf::atom("start")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using result_atom = caf::atom_constant<caf::atom("result")>;
using failed_atom = caf::atom_constant<caf::atom("failed")>;
using request_atom = caf::atom_constant<caf::atom("request")>;
using reply_atom = caf::atom_constant<caf::atom("reply")>;

// The custom exit reason of the cascade workload, as a CAF error category.
enum class bench_errc : uint8_t { cascade_kill = 1 };

caf::error make_error(bench_errc x) {
  return {static_cast<uint8_t>(x), caf::atom("bench")};
}

std::string to_string(bench_errc x) {
  return x == bench_errc::cascade_kill ? "cascade_kill" : "unknown";
}

double nanos_since(clock_type::time_point start) {
  return std::chrono::duration<double, std::nano>(clock_type::now() - start)
    .count();
}

// Millions of messages per second for `messages` delivered in `ns`.
double mmsg_per_s(double messages, double ns) {
  return messages * 1e3 / ns;
}

[[noreturn]] void fail(const std::string& workload, const std::string& why) {
  std::fprintf(stderr, "caf-workloads: %s: %s\n", workload.c_str(),
               why.c_str());
  // Stuck actors would make ~actor_system wait forever: leave at once.
  std::_Exit(1);
}

// -- pingpong -----------------------------------------------------------------
// Two actors; the next ping leaves only after the previous pong arrived.

caf::behavior pong_actor(caf::event_based_actor*) {
  return {
    [](ping_atom, int32_t n) { return std::make_tuple(pong_atom::value, n); },
  };
}

struct pingpong_state {
  caf::actor pong;
  clock_type::time_point start;
};

caf::behavior ping_actor(caf::stateful_actor<pingpong_state>* self,
                         caf::actor reporter, int32_t rounds) {
  self->state.pong = self->spawn(pong_actor);
  self->send(self, start_atom::value);
  return {
    [=](start_atom) {
      self->state.start = clock_type::now();
      self->send(self->state.pong, ping_atom::value, int32_t{1});
    },
    [=](pong_atom, int32_t n) {
      if (n < rounds) {
        self->send(self->state.pong, ping_atom::value, n + 1);
        return;
      }
      auto ns = nanos_since(self->state.start);
      self->send(reporter, result_atom::value, ns / rounds);
      // Dropping our handle leaves pong unreachable; CAF then tears it down.
      self->quit();
    },
  };
}

// -- ring ---------------------------------------------------------------------
// `members` actors in a ring (the driver is one of them); one token makes
// `hops` hops. The token carries the number of hops still to make.

caf::behavior ring_node(caf::event_based_actor* self, caf::actor next,
                        caf::actor driver) {
  self->send(driver, ready_atom::value);
  return {
    [=](int32_t hops_left) {
      if (hops_left > 1)
        self->send(next, hops_left - 1);
      else
        self->send(driver, done_atom::value);
    },
    [=](stop_atom) {
      self->send(next, stop_atom::value);
      self->quit();
    },
  };
}

struct ring_state {
  caf::actor next;
  int32_t ready = 0;
  clock_type::time_point start;
};

caf::behavior ring_driver(caf::stateful_actor<ring_state>* self,
                          caf::actor reporter, int32_t members,
                          int32_t hops) {
  // Spawn the ring backwards so every node knows its successor; the first
  // node spawned passes the token back to us.
  auto me = caf::actor{self};
  auto next = me;
  for (int32_t i = 1; i < members; ++i)
    next = self->spawn(ring_node, next, me);
  self->state.next = next;
  return {
    [=](ready_atom) {
      if (++self->state.ready < members - 1)
        return;
      self->state.start = clock_type::now();
      self->send(self->state.next, hops);
    },
    [=](int32_t hops_left) {
      if (hops_left > 1)
        self->send(self->state.next, hops_left - 1);
      else
        self->send(self, done_atom::value);
    },
    [=](done_atom) {
      auto ns = nanos_since(self->state.start);
      self->send(reporter, result_atom::value, ns / hops);
      // The ring holds strong references in a cycle: stop it explicitly.
      self->send(self->state.next, stop_atom::value);
      self->quit();
    },
  };
}

// -- spawn --------------------------------------------------------------------
// The parent spawns `n` actors; each says hello to the parent and exits.
// Runs on the work-sharing scheduler (see `workloads` below): with work
// stealing, the children queue up on the parent's worker and the idle worker
// steals them one by one from a list whose take_tail is O(length) in 0.17, so
// a million spawns take quadratic time (minutes instead of seconds).

void hello_child(caf::event_based_actor* self, caf::actor parent) {
  self->send(parent, hello_atom::value);
  // No behavior returned: the actor terminates normally right here.
}

struct spawn_state {
  int32_t arrived = 0;
  clock_type::time_point start;
};

caf::behavior spawn_driver(caf::stateful_actor<spawn_state>* self,
                           caf::actor reporter, int32_t n) {
  self->send(self, start_atom::value);
  return {
    [=](start_atom) {
      self->state.start = clock_type::now();
      auto me = caf::actor{self};
      for (int32_t i = 0; i < n; ++i)
        self->spawn(hello_child, me);
    },
    [=](hello_atom) {
      if (++self->state.arrived < n)
        return;
      auto ns = nanos_since(self->state.start);
      self->send(reporter, result_atom::value, ns / n);
      self->quit();
    },
  };
}

// -- memory -------------------------------------------------------------------
// `n` actors, each initialized and waiting for a message; we read VmRSS
// before and after. The counter only tells main when all have initialized.

std::atomic<int32_t> waiters_initialized{0};

caf::behavior waiter(caf::event_based_actor* self) {
  waiters_initialized.fetch_add(1, std::memory_order_relaxed);
  return {
    [=](stop_atom) { self->quit(); },
  };
}

long vm_rss_bytes() {
  std::ifstream status{"/proc/self/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.compare(0, 6, "VmRSS:") == 0)
      return std::strtol(line.c_str() + 6, nullptr, 10) * 1024;
  return -1;
}

double run_memory(caf::actor_system& sys, int32_t n) {
  // Allocate and touch the handle table first so it is part of the baseline:
  // CAF needs someone to hold a handle, or an idle actor is unreachable.
  std::vector<caf::actor> waiters(static_cast<size_t>(n));
  auto before = vm_rss_bytes();
  for (auto& w : waiters)
    w = sys.spawn(waiter);
  auto deadline = clock_type::now() + wait_limit;
  while (waiters_initialized.load(std::memory_order_relaxed) < n) {
    if (clock_type::now() > deadline)
      fail("memory", "actors did not initialize within 120 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto after = vm_rss_bytes();
  if (before < 0 || after < 0)
    fail("memory", "cannot read VmRSS from /proc/self/status");
  std::fprintf(stderr, "caf memory: VmRSS %ld kB -> %ld kB for %d actors\n",
               before / 1024, after / 1024, n);
  waiters.clear(); // unreachable now: CAF destroys them
  return static_cast<double>(after - before) / n;
}

// -- fanin --------------------------------------------------------------------
// `senders` actors each send `per_sender` messages to one receiver.

struct fanin_receiver_state {
  int64_t received = 0;
};

caf::behavior fanin_receiver(caf::stateful_actor<fanin_receiver_state>* self,
                             caf::actor driver, int64_t expected) {
  self->send(driver, ready_atom::value);
  return {
    [=](int32_t) {
      if (++self->state.received == expected) {
        self->send(driver, done_atom::value);
        self->quit();
      }
    },
  };
}

caf::behavior fanin_sender(caf::event_based_actor* self, caf::actor receiver,
                           caf::actor driver, int32_t count) {
  self->send(driver, ready_atom::value);
  return {
    [=](start_atom) {
      for (int32_t i = 0; i < count; ++i)
        self->send(receiver, i);
      self->quit();
    },
  };
}

struct fanin_state {
  std::vector<caf::actor> senders;
  int32_t ready = 0;
  clock_type::time_point start;
};

caf::behavior fanin_driver(caf::stateful_actor<fanin_state>* self,
                           caf::actor reporter, int32_t senders,
                           int32_t per_sender) {
  auto me = caf::actor{self};
  auto total = int64_t{senders} * per_sender;
  auto receiver = self->spawn(fanin_receiver, me, total);
  for (int32_t i = 0; i < senders; ++i)
    self->state.senders.push_back(
      self->spawn(fanin_sender, receiver, me, per_sender));
  return {
    [=](ready_atom) {
      if (++self->state.ready < senders + 1)
        return;
      self->state.start = clock_type::now();
      for (auto& s : self->state.senders)
        self->send(s, start_atom::value);
      self->state.senders.clear();
    },
    [=](done_atom) {
      auto ns = nanos_since(self->state.start);
      self->send(reporter, result_atom::value,
                 mmsg_per_s(static_cast<double>(total), ns));
      self->quit();
    },
  };
}

// -- cascade ------------------------------------------------------------------
// A chain of `n` actors, each linked to its predecessor. Killing the head
// with a custom reason takes the whole chain down; the driver monitors the
// tail. Only the propagation is timed.
//
// Each node links itself to its predecessor and then spawns its successor, so
// when the tail reports in, every link is in place. (Spawning all nodes from
// one actor would pile 100,000 jobs into one worker's queue, which CAF 0.17's
// work stealing drains in quadratic time.)

struct chain_state {
  // Keeps the predecessor reachable: CAF destroys idle actors nobody
  // references. The driver holds the tail, so the whole chain stays alive.
  caf::actor prev;
};

caf::behavior chain_node(caf::stateful_actor<chain_state>* self,
                         caf::actor prev, int32_t remaining,
                         caf::actor driver) {
  if (prev)
    self->link_to(prev);
  self->state.prev = std::move(prev);
  if (remaining > 1)
    self->spawn(chain_node, caf::actor{self}, remaining - 1, driver);
  else
    self->send(driver, ready_atom::value, caf::actor{self});
  return {
    [=](stop_atom) { self->quit(); },
  };
}

struct cascade_state {
  caf::actor head;
  caf::actor tail;
  clock_type::time_point start;
};

caf::behavior cascade_driver(caf::stateful_actor<cascade_state>* self,
                             caf::actor reporter, int32_t n) {
  self->state.head = self->spawn(chain_node, caf::actor{}, n, caf::actor{self});
  self->set_down_handler([=](caf::down_msg& down) {
    auto ns = nanos_since(self->state.start);
    auto expected = caf::error{bench_errc::cascade_kill};
    if (down.reason == expected)
      self->send(reporter, result_atom::value, ns / n);
    else
      self->send(reporter, failed_atom::value,
                 "tail went down with " + self->system().render(down.reason));
    self->quit();
  });
  return {
    [=](ready_atom, caf::actor& tail) {
      // The tail is up, so every node has linked itself to its predecessor.
      self->state.tail = std::move(tail);
      self->monitor(self->state.tail);
      self->state.start = clock_type::now();
      self->send_exit(self->state.head, caf::error{bench_errc::cascade_kill});
    },
  };
}

// -- big ----------------------------------------------------------------------
// `n` actors; each sends `pings` pings, one at a time, to random peers and
// waits for each pong while answering the pings of others.

// All members share one immutable table of handles (4 KB for 500 members)
// instead of each holding a copy, so picking a peer stays in cache.
using peer_table = std::shared_ptr<const std::vector<caf::actor>>;

struct big_state {
  peer_table peers;
  std::minstd_rand rng;
  int32_t index = 0;
  int32_t pings_left = 0;
};

void send_next_ping(caf::stateful_actor<big_state>* self) {
  auto& st = self->state;
  auto others = static_cast<int32_t>(st.peers->size()) - 1;
  std::uniform_int_distribution<int32_t> pick{0, others - 1};
  auto target = pick(st.rng);
  if (target >= st.index)
    ++target; // never ourselves
  self->send((*st.peers)[static_cast<size_t>(target)], ping_atom::value);
}

caf::behavior big_member(caf::stateful_actor<big_state>* self,
                         caf::actor driver, peer_table peers, int32_t index,
                         int32_t pings) {
  // The driver fills `peers` before it sends `start`; we read it only then.
  self->state.peers = std::move(peers);
  self->state.index = index;
  self->state.pings_left = pings;
  self->state.rng.seed(static_cast<uint32_t>(index) + 1);
  self->send(driver, ready_atom::value);
  return {
    [=](start_atom) { send_next_ping(self); },
    [=](ping_atom) { return pong_atom::value; },
    [=](pong_atom) {
      if (--self->state.pings_left > 0)
        send_next_ping(self);
      else
        self->send(driver, done_atom::value);
    },
    [=](stop_atom) { self->quit(); },
  };
}

struct big_driver_state {
  std::shared_ptr<std::vector<caf::actor>> members;
  int32_t ready = 0;
  int32_t done = 0;
  clock_type::time_point start;
};

caf::behavior big_driver(caf::stateful_actor<big_driver_state>* self,
                         caf::actor reporter, int32_t n, int32_t pings) {
  auto me = caf::actor{self};
  auto members = std::make_shared<std::vector<caf::actor>>();
  members->reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i)
    members->push_back(self->spawn(big_member, me, peer_table{members}, i,
                                   pings));
  self->state.members = std::move(members);
  return {
    [=](ready_atom) {
      if (++self->state.ready < n)
        return;
      self->state.start = clock_type::now();
      for (auto& m : *self->state.members)
        self->send(m, start_atom::value);
    },
    [=](done_atom) {
      if (++self->state.done < n)
        return;
      auto ns = nanos_since(self->state.start);
      auto messages = 2.0 * n * pings; // pings + pongs
      self->send(reporter, result_atom::value, mmsg_per_s(messages, ns));
      // The members' shared table holds every member: stop them explicitly.
      for (auto& m : *self->state.members)
        self->send(m, stop_atom::value);
      self->quit();
    },
  };
}

// -- call ---------------------------------------------------------------------
// One client, one server; each call is a request whose response handler
// issues the next request.

caf::behavior call_server(caf::event_based_actor*) {
  return {
    [](call_atom, int32_t x) { return x + 1; },
  };
}

struct call_state {
  caf::actor server;
  clock_type::time_point start;
};

void issue_call(caf::stateful_actor<call_state>* self, caf::actor reporter,
                int32_t i, int32_t calls) {
  // No timeout (caf::infinite), so no timer is armed per call; the run as a
  // whole is bounded by main's 120 s wait.
  self->request(self->state.server, caf::infinite, call_atom::value, i)
    .then(
      [=](int32_t next) {
        if (next < calls) {
          issue_call(self, reporter, next, calls);
          return;
        }
        auto ns = nanos_since(self->state.start);
        self->send(reporter, result_atom::value, ns / calls);
        self->quit();
      },
      [=](caf::error& err) {
        self->send(reporter, failed_atom::value,
                   "call failed: " + self->system().render(err));
        self->quit();
      });
}

caf::behavior call_client(caf::stateful_actor<call_state>* self,
                          caf::actor reporter, int32_t calls) {
  self->state.server = self->spawn(call_server);
  self->send(self, start_atom::value);
  return {
    [=](start_atom) {
      self->state.start = clock_type::now();
      issue_call(self, reporter, 0, calls);
    },
  };
}

// -- selective ----------------------------------------------------------------
// A client with `queued` unrelated `(reply, tag, n)` messages in its mailbox
// makes `rounds` requests, one at a time, each with `request(...).await(...)`:
// CAF's way to wait for one response while other messages stay queued (they
// are skipped by message id). A skipped message goes to the mailbox's cache,
// which is put back in front as soon as a message is taken, so each wait walks
// the whole queue again (CAF 0.17 has nothing like a mark to start after).

caf::behavior selective_server(caf::event_based_actor*) {
  return {
    [](request_atom, int32_t tag) {
      return std::make_tuple(reply_atom::value, tag, tag * 2);
    },
  };
}

struct selective_state {
  caf::actor server;
  caf::actor reporter;
  int32_t rounds = 0;
  clock_type::time_point start;
};

void selective_request(caf::stateful_actor<selective_state>* self,
                       int32_t tag) {
  // caf::infinite: no timer per request; main's 120 s wait bounds the run.
  self->request(self->state.server, caf::infinite, request_atom::value, tag)
    .await(
      [=](reply_atom, int32_t t, int32_t value) {
        auto& st = self->state;
        if (t != tag || value != tag * 2) {
          self->send(st.reporter, failed_atom::value,
                     std::string{"selective: a reply to another request"});
          self->quit();
        } else if (tag + 1 < st.rounds) {
          selective_request(self, tag + 1);
        } else {
          self->send(st.reporter, result_atom::value,
                     nanos_since(st.start) / st.rounds);
          self->quit();
        }
      },
      [=](caf::error& err) {
        self->send(self->state.reporter, failed_atom::value,
                   "selective: " + self->system().render(err));
        self->quit();
      });
}

caf::behavior selective_client(caf::stateful_actor<selective_state>* self,
                               caf::actor reporter, int32_t queued,
                               int32_t rounds) {
  self->state.server = self->spawn(selective_server);
  self->state.reporter = std::move(reporter);
  self->state.rounds = rounds;
  // Same shape as the responses, with tags no request uses. The first
  // request is awaited before any of them can be handled, and every later
  // one is made from the previous response, so they all stay queued.
  for (int32_t i = 0; i < queued; ++i)
    self->send(self, reply_atom::value, -1 - i, i);
  self->state.start = clock_type::now();
  selective_request(self, 0);
  return {
    [](reply_atom, int32_t, int32_t) {}, // the queue, after the last round
  };
}

// -- main ---------------------------------------------------------------------

// Waits for the driver's figure, or fails after `wait_limit`.
double await_result(caf::scoped_actor& self, const std::string& workload) {
  double value = 0;
  bool ok = false;
  std::string why = "no result within 120 s";
  self->receive([&](result_atom, double x) { value = x; ok = true; },
                [&](failed_atom, std::string& what) { why = std::move(what); },
                caf::after(wait_limit) >> [] {});
  if (!ok)
    fail(workload, why);
  return value;
}

struct workload_spec {
  const char* name;
  const char* unit;
  caf::atom_value policy; // CAF's scheduler policy: "stealing" or "sharing"
};

constexpr auto stealing = caf::atom("stealing"); // CAF's default
constexpr auto sharing = caf::atom("sharing");

constexpr workload_spec workloads[] = {
  {"pingpong", "ns/roundtrip", stealing},
  {"ring", "ns/hop", stealing},
  {"spawn", "ns/process", sharing},
  {"memory", "bytes/process", stealing},
  {"fanin", "Mmsg/s", stealing},
  {"cascade", "ns/link", stealing},
  {"big", "Mmsg/s", stealing},
  {"call", "ns/call", stealing},
  {"restart", "n/a", stealing},
  {"selective", "ns/roundtrip", stealing},
};

int usage() {
  std::fprintf(stderr, "usage: caf-workloads WORKLOAD [--quick]\n"
                       "workloads:");
  for (auto& w : workloads)
    std::fprintf(stderr, " %s", w.name);
  std::fprintf(stderr, "\n");
  return 2;
}

// Runs `workload` with every count divided by `scale` (1 or 100).
double run(caf::actor_system& sys, const std::string& workload,
           int32_t scale) {
  if (workload == "memory")
    return run_memory(sys, 1'000'000 / scale);
  caf::scoped_actor self{sys};
  auto me = caf::actor{self};
  // Holding the driver's handle keeps it reachable while it waits for
  // signals only (e.g. the cascade's down message): CAF destroys idle actors
  // that nobody references.
  caf::actor driver;
  if (workload == "pingpong")
    driver = self->spawn(ping_actor, me, 1'000'000 / scale);
  else if (workload == "ring")
    driver = self->spawn(ring_driver, me, 503, 10'000'000 / scale);
  else if (workload == "spawn")
    driver = self->spawn(spawn_driver, me, 1'000'000 / scale);
  else if (workload == "fanin")
    driver = self->spawn(fanin_driver, me, 100, 100'000 / scale);
  else if (workload == "cascade")
    driver = self->spawn(cascade_driver, me, 100'000 / scale);
  else if (workload == "big")
    driver = self->spawn(big_driver, me, 500, 2'000 / scale);
  else if (workload == "call")
    driver = self->spawn(call_client, me, 1'000'000 / scale);
  else if (workload == "selective") // the queue is not scaled
    driver = self->spawn(selective_client, me, 100'000, 1'000 / scale);
  return await_result(self, workload);
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3)
    return usage();
  std::string workload = argv[1];
  int32_t scale = 1;
  if (argc == 3) {
    if (std::string{argv[2]} != "--quick")
      return usage();
    scale = 100;
  }
  const workload_spec* spec = nullptr;
  for (auto& w : workloads)
    if (workload == w.name)
      spec = &w;
  if (spec == nullptr)
    return usage();
  if (workload == "restart") {
    std::printf("caf restart n/a no-supervisors\n");
    return 0;
  }
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  cfg.set("scheduler.policy", spec->policy);
  // (The templated add_error_category<T> overload does not compile in 0.17.)
  cfg.add_error_category(
    caf::atom("bench"), [](uint8_t code, caf::atom_value, const caf::message&) {
      return "bench: " + to_string(static_cast<bench_errc>(code));
    });
  caf::actor_system sys{cfg};
  std::fprintf(stderr, "caf %s: %zu scheduler threads, policy %s%s\n",
               workload.c_str(), sys.scheduler().num_workers(),
               caf::to_string(spec->policy).c_str(),
               scale > 1 ? ", quick" : "");
  auto value = run(sys, workload, scale);
  std::printf("caf %s %.2f %s\n", spec->name, value, spec->unit);
  std::fflush(stdout);
  return 0;
}
