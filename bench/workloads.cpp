// otter-workloads: the side-by-side workloads of WORKLOADS.md, run on otter.
//
//   otter-workloads WORKLOAD [--quick] [--spread] [--no-mark]
//
// prints one line, `otter WORKLOAD VALUE UNIT`. --quick divides every count by
// 100 (not selective's queue); --spread places the worker processes of fanin
// and big round-robin over both schedulers instead of on the spawning one
// (otter's default); --no-mark makes selective wait for its replies without a
// mailbox_mark, rescanning the whole queue each time (for contrast only).

#include <otter/otter.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct config {
  long scale = 1; // divisor
  bool spread = false;
  bool no_mark = false;
  long n(long full) const { return full / scale; }
  otter::spawn_options placement() const { return spread ? otter::spread() : otter::spawn_options{}; }
};

struct result {
  double value = 0;
  const char* unit = "";
};

double ns_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::nano>(clock_type::now() - t0).count();
}

long vm_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6) * 1024;
  return 0;
}

// ---------------------------------------------------------------- pingpong

struct ping {
  otter::pid from;
};
struct pong {};
struct stop {};

otter::process ponger() {
  for (;;) {
    bool more = co_await otter::receive([](ping p) {
      otter::send(p.from, pong{});
      return true;
    }, [](stop) { return false; });
    if (!more) co_return;
  }
}

otter::process pingpong(config cfg, result* out) {
  const long rounds = cfg.n(1'000'000);
  const otter::pid peer = otter::spawn(ponger);
  const otter::pid me = otter::self();
  const auto t0 = clock_type::now();
  for (long i = 0; i < rounds; ++i) {
    otter::send(peer, ping{me});
    co_await otter::receive<pong>();
  }
  *out = {ns_since(t0) / static_cast<double>(rounds), "ns/roundtrip"};
  otter::send(peer, stop{});
}

// ---------------------------------------------------------------- ring

otter::process ring_member(otter::pid main) {
  const otter::pid next = co_await otter::receive<otter::pid>();
  for (;;) {
    const long token = co_await otter::receive<long>();
    if (token == 0)
      otter::send(main, token); // the last hop; node::run's end stops the ring
    else
      otter::send(next, token - 1);
  }
}

otter::process ring(config cfg, result* out) {
  constexpr int size = 503;
  const long hops = cfg.n(10'000'000);
  std::vector<otter::pid> members;
  for (int i = 0; i < size; ++i) members.push_back(otter::spawn(ring_member, otter::self()));
  for (int i = 0; i < size; ++i) otter::send(members[static_cast<std::size_t>(i)], members[static_cast<std::size_t>((i + 1) % size)]);
  const auto t0 = clock_type::now();
  otter::send(members[0], hops);
  co_await otter::receive<long>(); // the member that saw 0
  *out = {ns_since(t0) / static_cast<double>(hops), "ns/hop"};
}

// ---------------------------------------------------------------- spawn

otter::process hello(otter::pid parent) {
  otter::send(parent, 1);
  co_return;
}

// A long loop in a cooperative process gives up the core now and then (the
// budget cannot interrupt code that never awaits); here that lets the children
// run, exit and hand their memory back while the parent goes on spawning, as
// preemption does for the other systems.
constexpr long yield_every = 256;

otter::process spawn_many(config cfg, result* out) {
  const long count = cfg.n(1'000'000);
  const otter::pid me = otter::self();
  const auto t0 = clock_type::now();
  for (long i = 0; i < count; ++i) {
    otter::spawn(hello, me);
    if (i % yield_every == yield_every - 1) co_await otter::yield();
  }
  for (long i = 0; i < count; ++i) co_await otter::receive<int>();
  *out = {ns_since(t0) / static_cast<double>(count), "ns/process"};
}

// ---------------------------------------------------------------- memory

otter::process blocked() { co_await otter::receive<stop>(); }

otter::process memory(config cfg, result* out) {
  const long count = cfg.n(1'000'000);
  std::vector<otter::pid> pids;
  pids.reserve(static_cast<std::size_t>(count));
  const long before = vm_rss_bytes();
  for (long i = 0; i < count; ++i) pids.push_back(otter::spawn(blocked));
  co_await otter::yield(); // every one of them runs to its receive and blocks
  const long after = vm_rss_bytes();
  // The pid vector is the benchmark's, not the processes' memory.
  const long pid_bytes = static_cast<long>(pids.capacity() * sizeof(otter::pid));
  *out = {static_cast<double>(after - before - pid_bytes) / static_cast<double>(count), "bytes/process"};
  for (otter::pid p : pids) otter::send(p, stop{});
}

// ---------------------------------------------------------------- fanin

otter::process fan_sender(otter::pid to, long count) {
  for (long i = 0; i < count; ++i) {
    otter::send(to, i);
    if (i % yield_every == yield_every - 1) co_await otter::yield();
  }
}

otter::process fanin(config cfg, result* out) {
  constexpr int senders = 100;
  const long each = cfg.n(100'000);
  const otter::pid me = otter::self();
  const auto t0 = clock_type::now();
  // The receiver has this core to itself; the senders share the other.
  for (int s = 0; s < senders; ++s)
    otter::spawn(cfg.spread ? otter::spread() : otter::on_scheduler(1), fan_sender, me, each);
  const long total = senders * each;
  for (long i = 0; i < total; ++i) co_await otter::receive<long>();
  *out = {static_cast<double>(total) / ns_since(t0) * 1e3, "Mmsg/s"};
}

// ---------------------------------------------------------------- cascade

struct chain_done {
  otter::pid tail;
};

// Links to the next member as it spawns it; the last one reports itself.
otter::process chain_member(otter::pid main, long remaining) {
  if (remaining > 1)
    otter::spawn_link(chain_member, main, remaining - 1);
  else
    otter::send(main, chain_done{otter::self()});
  co_await otter::receive<stop>(); // never comes: the cascade ends it
}

otter::process cascade(config cfg, result* out) {
  const long length = cfg.n(100'000);
  const otter::pid head = otter::spawn(chain_member, otter::self(), length);
  const otter::pid tail = (co_await otter::receive<chain_done>()).tail; // every link is in place
  const otter::ref watch = otter::monitor(tail);
  const otter::exit_reason why = otter::exit_reason::custom("cascade");
  const auto t0 = clock_type::now();
  otter::exit(head, why);
  const otter::down_message down = co_await otter::receive<otter::down_message>();
  const double elapsed = ns_since(t0);
  if (down.monitor != watch || down.reason != why) throw std::runtime_error("the tail went down for another reason");
  *out = {elapsed / static_cast<double>(length), "ns/link"};
}

// ---------------------------------------------------------------- call

struct ping_call {};

class echo_server {
public:
  int handle_call(ping_call) { return ++calls_; }

private:
  int calls_ = 0;
};

otter::process call(config cfg, result* out) {
  const long calls = cfg.n(1'000'000);
  const auto server = (co_await otter::gen_server::start_link<echo_server>()).value();
  const auto t0 = clock_type::now();
  for (long i = 0; i < calls; ++i) co_await otter::gen_server::call(server, ping_call{});
  *out = {ns_since(t0) / static_cast<double>(calls), "ns/call"};
}

// ---------------------------------------------------------------- restart

struct child_up {
  otter::pid child;
};
struct crash_now {};

// The supervised child: announces itself from init; a crash_now cast makes it
// exit abnormally, so that its supervisor restarts it.
class crashing_child {
public:
  void init(otter::pid driver) { otter::send(driver, child_up{otter::self()}); }
  void handle_cast(crash_now) { otter::gen_server::stop_self(otter::exit_reason::custom("crash")); }
};

otter::process restart(config cfg, result* out) {
  const long restarts = cfg.n(100'000);
  otter::supervisor_flags flags;
  flags.strategy = otter::restart_strategy::one_for_one;
  flags.intensity = static_cast<int>(restarts) + 1;
  flags.period = std::chrono::hours(1);
  std::vector<otter::child_spec> children{otter::child_spec::server<crashing_child>("child", otter::self())};
  const otter::pid sup = (co_await otter::supervisor::start_link(flags, std::move(children))).value();
  otter::pid child = (co_await otter::receive<child_up>()).child;
  const auto t0 = clock_type::now();
  for (long i = 0; i < restarts; ++i) {
    otter::gen_server::cast(otter::server_ref<crashing_child>(child), crash_now{});
    child = (co_await otter::receive<child_up>()).child; // the restarted child
  }
  *out = {ns_since(t0) / static_cast<double>(restarts), "ns/restart"};
  otter::unlink(sup);
}

// ---------------------------------------------------------------- big

struct big_ping {
  otter::pid from;
};
struct big_pong {};
struct big_done {};

// A cheap generator (xorshift64*), reduced to a range without division.
struct fast_random {
  std::uint64_t state;
  std::size_t below(std::size_t n) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    const std::uint64_t r = (state * 0x2545F4914F6CDD1Dull) >> 32;
    return static_cast<std::size_t>((r * n) >> 32);
  }
};

using peer_list = std::shared_ptr<const std::vector<otter::pid>>;

otter::process big_member(otter::pid main, long pings, unsigned seed) {
  const peer_list peers = co_await otter::receive<peer_list>(); // shared, immutable
  fast_random rng{seed * 0x9E3779B97F4A7C15ull + 1};
  const otter::pid me = otter::self();
  auto answer = [](big_ping p) {
    otter::send(p.from, big_pong{});
    return false;
  };
  for (long i = 0; i < pings; ++i) {
    otter::send((*peers)[rng.below(peers->size())], big_ping{me});
    // Wait for the pong, answering the pings of others meanwhile.
    while (!co_await otter::receive(answer, [](big_pong) { return true; })) {
    }
  }
  otter::send(main, big_done{});
  // Keep answering until everyone is done.
  while (!co_await otter::receive(answer, [](stop) { return true; })) {
  }
}

otter::process big(config cfg, result* out) {
  constexpr int size = 500;
  const long pings = cfg.n(2000) > 0 ? cfg.n(2000) : 1;
  auto members = std::make_shared<std::vector<otter::pid>>();
  for (int i = 0; i < size; ++i)
    members->push_back(otter::spawn(cfg.placement(), big_member, otter::self(), pings, static_cast<unsigned>(i + 1)));
  const peer_list peers = members;
  const auto t0 = clock_type::now();
  for (otter::pid m : *members) otter::send(m, peers);
  for (int i = 0; i < size; ++i) co_await otter::receive<big_done>();
  const double elapsed = ns_since(t0);
  for (otter::pid m : *members) otter::send(m, stop{});
  *out = {static_cast<double>(size) * static_cast<double>(pings) * 2.0 / elapsed * 1e3, "Mmsg/s"};
}

// ---------------------------------------------------------------- selective

struct tagged_request {
  otter::pid from;
  long tag;
};
// The replies and the messages queued ahead of them share this one type, so
// skipping a queued message takes the same tag compare as an Erlang receive
// skipping `{OtherRef, N}`, not a cheaper type compare.
struct tagged_reply {
  long tag;
  long value;
};

otter::process tagged_server() {
  for (;;) {
    bool more = co_await otter::receive([](tagged_request r) {
      otter::send(r.from, tagged_reply{r.tag, r.tag * 2});
      return true;
    }, [](stop) { return false; });
    if (!more) co_return;
  }
}

constexpr long selective_queued = 100'000; // the same with --quick

otter::process selective(config cfg, result* out) {
  const long rounds = cfg.n(100'000);
  const otter::pid server = otter::spawn(tagged_server); // on this core
  const otter::pid me = otter::self();
  // Request tags are 0, 1, ...; the queued messages have negative tags.
  for (long i = 0; i < selective_queued; ++i) otter::send(me, tagged_reply{-1 - i, i});
  const auto t0 = clock_type::now();
  for (long tag = 0; tag < rounds; ++tag) {
    auto ours = otter::when([tag](const tagged_reply& r) { return r.tag == tag; },
                            [](tagged_reply r) { return r.value; });
    long value = 0;
    if (cfg.no_mark) { // each receive examines the whole queue first
      otter::send(server, tagged_request{me, tag});
      value = co_await otter::receive(std::move(ours));
    } else {
      otter::mailbox_mark mark; // before the request leaves
      otter::send(server, tagged_request{me, tag});
      value = co_await otter::receive(mark, std::move(ours));
    }
    if (value != tag * 2) throw std::runtime_error("a reply to another request");
  }
  *out = {ns_since(t0) / static_cast<double>(rounds), "ns/roundtrip"};
  otter::send(server, stop{});
  // The queue was skipped, not consumed: it is all still there, in order.
  for (long i = 0; i < selective_queued; ++i) {
    const tagged_reply queued = co_await otter::receive<tagged_reply>();
    if (queued.value != i) throw std::runtime_error("the queue changed");
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s pingpong|ring|spawn|memory|fanin|cascade|call|restart|big|selective [--quick] [--spread] [--no-mark]\n", argv[0]);
    return 2;
  }
  const std::string_view workload = argv[1];
  config cfg;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--quick")
      cfg.scale = 100;
    else if (a == "--spread")
      cfg.spread = true;
    else if (a == "--no-mark")
      cfg.no_mark = true;
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }

  otter::node_options options;
  options.schedulers = 2;     // both cores, as for every system in WORKLOADS.md
  options.log.reports = false; // crash logging off, as for every system
  otter::node node(options);
  result r;
  int rc = 0;
  if (workload == "pingpong")
    rc = node.run(pingpong, cfg, &r);
  else if (workload == "ring")
    rc = node.run(ring, cfg, &r);
  else if (workload == "spawn")
    rc = node.run(spawn_many, cfg, &r);
  else if (workload == "memory")
    rc = node.run(memory, cfg, &r);
  else if (workload == "fanin")
    rc = node.run(fanin, cfg, &r);
  else if (workload == "cascade")
    rc = node.run(cascade, cfg, &r);
  else if (workload == "call")
    rc = node.run(call, cfg, &r);
  else if (workload == "restart")
    rc = node.run(restart, cfg, &r);
  else if (workload == "big")
    rc = node.run(big, cfg, &r);
  else if (workload == "selective")
    rc = node.run(selective, cfg, &r);
  else {
    std::fprintf(stderr, "unknown workload %s\n", argv[1]);
    return 2;
  }
  if (rc != 0) {
    std::fprintf(stderr, "otter %s failed: %s\n", argv[1], node.last_exit_reason().to_string().c_str());
    return 1;
  }
  std::printf("otter %s %.2f %s\n", argv[1], r.value, r.unit);
  return 0;
}
