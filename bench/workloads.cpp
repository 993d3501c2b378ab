// otter-workloads: the side-by-side workloads of WORKLOADS.md, run on otter.
//
//   otter-workloads WORKLOAD [--quick] [--spread] [--no-mark]
//   otter-workloads dist_pingpong|dist_throughput [--peer NODE --epmd-port P --cookie C] [--node NAME] [--quick]
//   otter-workloads --dist-peer NAME --epmd-port P --cookie C [--serve-epmd | --epmd-if-none]
//
// prints one line, `otter WORKLOAD VALUE UNIT`. --quick divides every count by
// 100 (not selective's queue); --spread places the worker processes of fanin
// and big round-robin over both schedulers instead of on the spawning one
// (otter's default); --no-mark makes selective wait for its replies without a
// mailbox_mark, rescanning the whole queue each time (for contrast only);
// --schedulers N runs the node on N schedulers instead of 2 and --spin-us N
// makes an idle scheduler poll N µs before it sleeps (node_options::spin;
// both for diagnosis, not used by bench/compare).
//
// The distribution workloads run against a peer node, NODE: another
// otter-workloads started with --dist-peer (which, with --serve-epmd, serves
// epmd on port P itself; with --epmd-if-none, only if none runs there) or the
// Erlang peer (bench/peers/erlang/run dist-peer). Without --peer, the client
// starts an otter peer itself as a child process, on the epmd port of
// ERL_EPMD_PORT (default 4369), served by the peer if no epmd runs, with a
// random cookie, and stops it when done. Both peers register a process as `bench_peer` that answers the
// same terms, so either client drives either peer:
//   {hello, From}          -> {peer, PeerPid} to From
//   {From, N}              -> N + 1 to From                   (dist_pingpong)
//   {stream, From, Count}  -> then Count messages {msg, I}, I = 1..Count; an
//                             {ack, I} to From after every 1,000th, and
//                             {done, Nanoseconds} after the last, timed at
//                             the peer from `stream` to the last message
//                             (dist_throughput)
// A peer exits after 120 s without a message; every client run ends within
// OTTER_BENCH_TIMEOUT_S (default 120) seconds or exits with status 1.

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
#include <thread>
#include <vector>

#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <otter/dist/node.hpp>

namespace {

using clock_type = std::chrono::steady_clock;

struct config {
  long scale = 1; // divisor
  bool spread = false;
  bool no_mark = false;
  std::string peer; // the distribution workloads' peer node
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

// ---------------------------------------------------------------- distribution

using otter::term;

constexpr const char* peer_name = "bench_peer";
constexpr long ack_every = 1000;  // the receiver acknowledges every 1,000th message
constexpr long window = 10 * ack_every; // at most this many unacknowledged messages in flight

/// The pid of `bench_peer` on cfg.peer: {hello, self()} by name, {peer, Pid} back.
/// Tries 10 times, a second each (the first send also connects).
otter::task<otter::pid> find_peer(const config& cfg) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    otter::send(otter::dist::remote_name{peer_name, cfg.peer}, term::tuple({term::atom("hello"), term(otter::self())}));
    const otter::pid p = co_await otter::receive(
        otter::when([](const term& t) { return t.is_tuple(2) && t[0].is_atom("peer") && t[1].is_pid(); },
                    [](term t) { return t[1].as_pid(); }),
        otter::after(std::chrono::seconds(1), [] { return otter::pid{}; }));
    if (p) co_return p;
  }
  throw std::runtime_error("no answer from " + std::string(peer_name) + " on " + cfg.peer);
}

/// `rounds` round trips: {self(), N} out, N + 1 back.
otter::task<> round_trips(otter::pid peer, long rounds) {
  const term me{otter::self()};
  for (long n = 0; n < rounds; ++n) {
    otter::send(peer, term::tuple({me, term(n)}));
    const term back = co_await otter::receive<term>();
    if (back.to_int64() != n + 1) throw std::runtime_error("dist_pingpong: a wrong reply");
  }
}

otter::process dist_pingpong(config cfg, result* out) {
  const long rounds = cfg.n(100'000);
  const otter::pid peer = co_await find_peer(cfg);
  co_await round_trips(peer, cfg.n(5'000)); // warm-up: the connection and both nodes' caches
  const auto t0 = clock_type::now();
  co_await round_trips(peer, rounds);
  *out = {ns_since(t0) / 1e3 / static_cast<double>(rounds), "us/roundtrip"};
}

otter::process dist_throughput(config cfg, result* out) {
  const long count = cfg.n(2'000'000);
  const otter::pid peer = co_await find_peer(cfg);
  const term me{otter::self()};
  const term msg = term::atom("msg");
  otter::send(peer, term::tuple({term::atom("stream"), me, term(count)}));
  long acked = 0;
  auto is_ack = [](const term& t) { return t.is_tuple(2) && t[0].is_atom("ack"); };
  for (long i = 1; i <= count; ++i) {
    while (i - acked > window)
      acked = co_await otter::receive(otter::when(is_ack, [](term t) { return *t[1].to_int64(); }));
    otter::send(peer, term::tuple({msg, term(i)}));
    if (i % yield_every == 0) co_await otter::yield(); // let the connection write what is queued
  }
  const double ns = co_await otter::receive(
      otter::when([](const term& t) { return t.is_tuple(2) && t[0].is_atom("done"); },
                  [](term t) { return static_cast<double>(*t[1].to_int64()); }));
  *out = {static_cast<double>(count) / ns * 1e3, "Mmsg/s"};
}

/// The peer: `bench_peer`, answering the terms above until 120 s pass without one.
otter::process dist_peer() {
  otter::register_name(peer_name, otter::self());
  std::printf("ready %s\n", otter::dist::this_node().c_str());
  std::fflush(stdout);
  const otter::pid me = otter::self();
  auto any = [](term t) { return std::optional<term>(std::move(t)); };
  auto idle = otter::after(std::chrono::seconds(120), [] { return std::optional<term>(); });
  for (;;) {
    const std::optional<term> got = co_await otter::receive(any, idle);
    if (!got) co_return;
    const term& t = *got;
    if (t.is_tuple(2) && t[0].is_pid() && t[1].is_integer()) { // {From, N}
      otter::send(t[0].as_pid(), term(*t[1].to_int64() + 1));
    } else if (t.is_tuple(2) && t[0].is_atom("hello") && t[1].is_pid()) {
      otter::send(t[1].as_pid(), term::tuple({term::atom("peer"), term(me)}));
    } else if (t.is_tuple(3) && t[0].is_atom("stream") && t[1].is_pid() && t[2].is_integer()) {
      const otter::pid from = t[1].as_pid();
      const long count = static_cast<long>(*t[2].to_int64());
      const term ack = term::atom("ack");
      const auto t0 = clock_type::now();
      for (long i = 1; i <= count; ++i) {
        const term m = co_await otter::receive(otter::when([](const term& x) { return x.is_tuple(2) && x[0].is_atom("msg"); },
                                                           [](term x) { return x; }));
        if (m[1].to_int64() != i) throw std::runtime_error("dist_throughput: a message out of order");
        if (i % ack_every == 0) otter::send(from, term::tuple({ack, term(i)}));
      }
      otter::send(from, term::tuple({term::atom("done"), term(static_cast<long long>(ns_since(t0)))}));
    } else if (t.is_atom("stop")) {
      co_return;
    }
  }
}

/// Ends the process with status 1 if the run takes longer than OTTER_BENCH_TIMEOUT_S.
void start_watchdog() {
  const char* env = std::getenv("OTTER_BENCH_TIMEOUT_S");
  const long seconds = env && std::atol(env) > 0 ? std::atol(env) : 120;
  std::thread([seconds] {
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    std::fprintf(stderr, "otter-workloads: no result after %ld s\n", seconds);
    std::_Exit(1);
  }).detach();
}

/// An otter peer node run as a child process of this one, for the distribution
/// workloads when no --peer is given. The child dies with this process.
class child_peer {
public:
  /// Starts `self --dist-peer NAME ...` and waits (bounded) for its ready line.
  bool start(const std::string& name, std::uint16_t epmd_port, const std::string& cookie, int schedulers,
             long spin_us) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return fail("pipe");
    const std::string port = std::to_string(epmd_port), scheds = std::to_string(schedulers),
                      spin = std::to_string(spin_us);
    std::vector<const char*> argv{"otter-workloads", "--dist-peer", name.c_str(), "--epmd-port", port.c_str(),
                                  "--cookie", cookie.c_str(), "--epmd-if-none", "--schedulers", scheds.c_str()};
    if (spin_us >= 0) {
      argv.push_back("--spin-us");
      argv.push_back(spin.c_str());
    }
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) return fail("fork");
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      dup2(out[1], STDOUT_FILENO);
      execv("/proc/self/exe", const_cast<char* const*>(argv.data()));
      _exit(127);
    }
    close(out[1]);
    std::string seen;
    const auto deadline = clock_type::now() + std::chrono::seconds(20);
    while (seen.find("ready ") == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
      pollfd p{out[0], POLLIN, 0};
      if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) break;
      char buf[256];
      const ssize_t n = read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      seen.append(buf, static_cast<std::size_t>(n));
    }
    close(out[0]);
    if (seen.find("ready ") == std::string::npos) {
      std::fprintf(stderr, "otter-workloads: the peer node did not start: %s\n", seen.c_str());
      return false;
    }
    return true;
  }
  ~child_peer() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }

private:
  bool fail(const char* what) {
    std::perror(what);
    return false;
  }
  pid_t pid_ = -1;
};

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s pingpong|ring|spawn|memory|fanin|cascade|call|restart|big|selective [--quick] [--spread] [--no-mark] [--schedulers N] [--spin-us N]\n"
                         "       %s dist_pingpong|dist_throughput [--peer NODE --epmd-port P --cookie C] [--node NAME] [--quick] [--schedulers N] [--spin-us N]\n"
                         "       %s --dist-peer NAME --epmd-port P --cookie C [--serve-epmd | --epmd-if-none] [--schedulers N] [--spin-us N]\n", argv[0], argv[0], argv[0]);
    return 2;
  }
  const std::string_view workload = argv[1];
  config cfg;
  otter::dist::options dist;
  const bool peer_mode = workload == "--dist-peer";
  int first_option = 2;
  int schedulers = 2;
  long spin_us = -1; // the node's default
  if (peer_mode) {
    if (argc < 3) {
      std::fprintf(stderr, "--dist-peer needs a node name\n");
      return 2;
    }
    dist.name = argv[2];
    dist.epmd = otter::dist::epmd_mode::use;
    first_option = 3;
  }
  for (int i = first_option; i < argc; ++i) {
    const std::string_view a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--quick")
      cfg.scale = 100;
    else if (a == "--spread")
      cfg.spread = true;
    else if (a == "--no-mark")
      cfg.no_mark = true;
    else if (a == "--schedulers" && has_value && std::atoi(argv[i + 1]) > 0)
      schedulers = std::atoi(argv[++i]);
    else if (a == "--spin-us" && has_value)
      spin_us = std::atol(argv[++i]);
    else if (a == "--serve-epmd")
      dist.epmd = otter::dist::epmd_mode::serve;
    else if (a == "--epmd-if-none")
      dist.epmd = otter::dist::epmd_mode::use_or_serve;
    else if (a == "--peer" && has_value)
      cfg.peer = argv[++i];
    else if (a == "--node" && has_value)
      dist.name = argv[++i];
    else if (a == "--cookie" && has_value)
      dist.cookie = argv[++i];
    else if (a == "--epmd-port" && has_value)
      dist.epmd_port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  const bool dist_workload = workload == "dist_pingpong" || workload == "dist_throughput";
  if (dist_workload) {
    if (!cfg.peer.empty() && dist.epmd_port == 0) {
      std::fprintf(stderr, "%s --peer NODE needs --epmd-port P\n", argv[1]);
      return 2;
    }
    const std::string tag = std::to_string(getpid());
    if (dist.name.empty()) dist.name = "otter_client_" + tag + "@localhost";
    dist.epmd = otter::dist::epmd_mode::use;
  }
  std::unique_ptr<child_peer> own_peer;
  if (dist_workload && cfg.peer.empty()) {
    const char* env = std::getenv("ERL_EPMD_PORT");
    if (dist.epmd_port == 0) dist.epmd_port = env && std::atoi(env) > 0 ? static_cast<std::uint16_t>(std::atoi(env)) : 4369;
    if (dist.cookie.empty()) {
      std::random_device rd;
      dist.cookie = "bench" + std::to_string(rd()) + std::to_string(rd());
    }
    cfg.peer = "otter_peer_" + std::to_string(getpid()) + "@localhost";
    // A few tries: an epmd that a previous run's peer served may be closing.
    for (int attempt = 0; attempt < 3 && !own_peer; ++attempt) {
      own_peer = std::make_unique<child_peer>();
      if (!own_peer->start(cfg.peer, dist.epmd_port, dist.cookie, schedulers, spin_us)) {
        own_peer.reset();
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
      }
    }
    if (!own_peer) return 1;
  }
  if (dist_workload || peer_mode) {
    dist.log_connections = false;
    start_watchdog();
  }

  otter::node_options options;
  options.schedulers = schedulers; // both cores, as for every system in WORKLOADS.md
  if (spin_us >= 0) options.spin = std::chrono::microseconds(spin_us);
  options.log.reports = false; // crash logging off, as for every system
  if (dist_workload || peer_mode) options.distribution = dist;
  otter::node node(options);
  result r;
  int rc = 0;
  if (peer_mode) {
    try {
      rc = node.run(dist_peer);
    } catch (const otter::dist::start_error& e) {
      std::fprintf(stderr, "otter-workloads: distribution did not start: %s\n", e.what());
      return 1;
    }
    if (rc != 0) std::fprintf(stderr, "otter peer failed: %s\n", node.last_exit_reason().to_string().c_str());
    return rc == 0 ? 0 : 1;
  }
  if (workload == "dist_pingpong" || workload == "dist_throughput") {
    try {
      rc = node.run(workload == "dist_pingpong" ? dist_pingpong : dist_throughput, cfg, &r);
    } catch (const otter::dist::start_error& e) {
      std::fprintf(stderr, "otter-workloads: distribution did not start: %s\n", e.what());
      return 1;
    }
  } else if (workload == "pingpong")
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
