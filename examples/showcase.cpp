// showcase: otter in one run. A supervised key-value server on every core,
// client processes driving requests at it over loopback, and a chaos monkey
// killing connection processes and crashing the store on the way. At the end:
// requests served, crashes, restarts and latency percentiles.
//
//   build/examples/showcase [--seconds S] [--clients N]
//
//   showcase (one_for_one)
//   ├── store   a gen_server counting per key, registered as "store"
//   └── server  net::server: a listener and the connections on every core;
//               a connection answers each line "INCR key" with the new count

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <otter/net/server.hpp>
#include <otter/otter.hpp>

using namespace std::chrono_literals;
namespace gs = otter::gen_server;
namespace net = otter::net;
namespace sup = otter::supervisor;

// ---------------------------------------------------------------- the store

struct incr {
  explicit incr(std::string k) : key(std::move(k)) {}
  std::string key;
};
struct poison {}; // a request the store has a bug for

class store {
public:
  long handle_call(const incr& r) { return ++counts_[r.key]; }
  void handle_cast(poison) { throw std::logic_error("store: a poisoned request"); }

private:
  std::unordered_map<std::string, long> counts_;
};

// ---------------------------------------------------------------- the server

// Asks the store, trying again while its supervisor restarts it.
otter::task<std::string> answer(const otter::server_ref<store>& kv, std::string key) {
  for (int attempt = 0;; ++attempt) {
    incr request(key);
    auto n = co_await gs::try_call(kv, std::move(request), 1s);
    if (n) co_return std::to_string(n.value()) + "\n";
    if (attempt == 20) co_return "ERR " + n.error().to_string() + "\n";
    co_await otter::sleep(1ms);
  }
}

// One connection: a request per line, an answer per request.
otter::process connection(net::tcp_socket socket) {
  const auto kv = otter::server_ref<store>::named("store");
  std::string in, out;
  for (;;) {
    auto got = co_await socket.recv();
    if (!got || got->empty()) co_return;
    in += got.value();
    std::size_t start = 0;
    for (std::size_t nl; (nl = in.find('\n', start)) != std::string::npos; start = nl + 1) {
      const std::string_view line(in.data() + start, nl - start);
      if (line.starts_with("INCR ")) out += co_await answer(kv, std::string(line.substr(5)));
      else out += "ERR unknown request\n";
    }
    in.erase(0, start);
    if (!out.empty() && !co_await socket.send(out)) co_return;
    out.clear();
  }
}

// ---------------------------------------------------------------- the load

struct client_report {
  std::vector<std::uint32_t> latencies_ns;
  long errors = 0;
  long reconnects = 0;
};

otter::process client(net::address at, std::chrono::nanoseconds until, otter::pid report_to, int id) {
  client_report r;
  const std::string request = "INCR key" + std::to_string(id % 16) + "\n";
  net::tcp_socket socket;
  std::string in;
  while (otter::monotonic_time() < until) {
    if (!socket.is_open()) {
      auto c = co_await net::tcp_socket::connect(at, 1s, {.nodelay = true});
      if (!c) {
        co_await otter::sleep(1ms);
        continue;
      }
      socket = std::move(c.value());
      in.clear();
    }
    const auto sent_at = std::chrono::steady_clock::now();
    bool answered = static_cast<bool>(co_await socket.send(request));
    std::size_t nl = std::string::npos;
    while (answered && (nl = in.find('\n')) == std::string::npos) {
      auto got = co_await socket.recv(5s);
      answered = got && !got->empty();
      if (answered) in += got.value();
    }
    if (!answered) { // the connection's process was killed: connect again
      socket.close();
      ++r.reconnects;
      continue;
    }
    const auto took = std::chrono::steady_clock::now() - sent_at;
    r.latencies_ns.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(took).count(), UINT32_MAX)));
    if (in.starts_with("ERR")) ++r.errors;
    in.erase(0, nl + 1);
  }
  otter::send(report_to, std::move(r));
}

// ---------------------------------------------------------------- the chaos

struct chaos_report {
  int connections_killed = 0;
  int store_crashes = 0;
  std::chrono::nanoseconds store_downtime{};
};

// Every connection process of the server, found through its supervisors.
otter::task<std::vector<otter::pid>> connections_of(otter::pid server) {
  std::vector<otter::pid> all;
  for (const auto& part : co_await sup::which_children(server)) {
    if (part.id != "connections" || !part.pid) continue;
    for (const auto& core : co_await sup::which_children(part.pid))
      if (core.pid)
        for (const auto& c : co_await sup::which_children(core.pid)) all.push_back(c.pid);
  }
  co_return all;
}

otter::process chaos_monkey(otter::pid server, std::chrono::nanoseconds until, otter::pid report_to) {
  chaos_report r;
  std::mt19937 random(42);
  while (otter::monotonic_time() < until) {
    co_await otter::sleep(100ms);
    if (random() % 3 == 0) { // crash the store, then time its restart
      const otter::pid before = otter::whereis("store");
      gs::cast(otter::server_ref<store>(before), poison{});
      const auto crashed_at = otter::monotonic_time();
      otter::pid after;
      for (int i = 0; i < 100'000 && (!after || after == before); ++i) {
        co_await otter::yield();
        after = otter::whereis("store");
      }
      r.store_downtime += otter::monotonic_time() - crashed_at;
      ++r.store_crashes;
    } else { // kill a connection
      const auto victims = co_await connections_of(server);
      if (victims.empty()) continue;
      otter::exit(victims[random() % victims.size()], otter::exit_reason::kill());
      ++r.connections_killed;
    }
  }
  otter::send(report_to, r);
}

// ---------------------------------------------------------------- the run

std::atomic<int> crash_reports{0};

struct listening {
  net::address at;
};

double percentile(std::vector<std::uint32_t>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k] / 1000.0;
}

otter::process main_process(int seconds, int clients) {
  otter::trap_exit(true);
  const otter::pid me = otter::self();
  net::server_options options;
  options.on_listening = [me](const net::address& at) { otter::send(me, listening{at}); };
  std::vector<otter::child_spec> tree{otter::child_spec::server<store>("store", gs::start_options().named("store")),
                                      net::server_spec("server", std::move(options), connection)};
  otter::supervisor_flags flags;
  flags.intensity = 1000; // the chaos monkey is busy; a real service would keep this low
  const otter::pid root = (co_await sup::start_link(flags, std::move(tree))).value();
  const net::address at = (co_await otter::receive<listening>()).at;
  otter::pid server;
  for (const auto& c : co_await sup::which_children(root))
    if (c.id == "server") server = c.pid;

  std::printf("otter showcase: %d client processes against a supervised key-value server on\n"
              "%s (%d cores), for %d s, while a chaos monkey kills and crashes its processes\n\n",
              clients, at.to_string().c_str(), otter::scheduler_count(), seconds);
  std::fflush(stdout);
  const auto start = otter::monotonic_time();
  const auto until = start + std::chrono::seconds(seconds);
  for (int i = 0; i < clients; ++i) otter::spawn(otter::spread(), client, at, until, me, i);
  otter::spawn(chaos_monkey, server, until, me);

  client_report all;
  for (int i = 0; i < clients; ++i) {
    auto r = co_await otter::receive<client_report>();
    all.latencies_ns.insert(all.latencies_ns.end(), r.latencies_ns.begin(), r.latencies_ns.end());
    all.errors += r.errors;
    all.reconnects += r.reconnects;
  }
  const chaos_report chaos = co_await otter::receive<chaos_report>();
  const double elapsed = std::chrono::duration<double>(otter::monotonic_time() - start).count();

  const std::size_t served = all.latencies_ns.size();
  std::printf("  requests served      %zu (%.0f per second)\n", served, static_cast<double>(served) / elapsed);
  const double p50 = percentile(all.latencies_ns, 0.50), p90 = percentile(all.latencies_ns, 0.90),
               p99 = percentile(all.latencies_ns, 0.99), p999 = percentile(all.latencies_ns, 0.999);
  std::printf("  latency              p50 %.0f us, p90 %.0f us, p99 %.0f us, p99.9 %.0f us\n", p50, p90, p99, p999);
  std::printf("  chaos                killed %d connection processes, crashed the store %d times\n",
              chaos.connections_killed, chaos.store_crashes);
  std::printf("  crash reports        %d\n", crash_reports.load());
  std::printf("  restarts             the store's supervisor restarted it %d times, each back within\n"
              "                       %.1f us on average\n",
              chaos.store_crashes,
              chaos.store_crashes > 0 ? std::chrono::duration<double, std::micro>(chaos.store_downtime).count() / chaos.store_crashes
                                      : 0.0);
  std::printf("  clients              reconnected %ld times; %ld answers were errors\n", all.reconnects, all.errors);

  otter::exit(root, otter::exit_reason::shutdown());
  co_await otter::receive(otter::when([root](const otter::exit_message& e) { return e.from == root; },
                                      [](otter::exit_message) {}));
  std::printf("\nthe tree stopped cleanly\n");
}

int main(int argc, char** argv) {
  try {
    int seconds = 3, clients = 32;
    for (int i = 1; i + 1 < argc; i += 2) {
      if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::max(1, std::atoi(argv[i + 1]));
      else if (std::strcmp(argv[i], "--clients") == 0) clients = std::max(1, std::atoi(argv[i + 1]));
      else {
        std::fprintf(stderr, "usage: %s [--seconds S] [--clients N]\n", argv[0]);
        return 2;
      }
    }
    otter::node_options options;
    options.log.sink = [](const otter::log_record& r) { // on the node's logger thread
      if (std::holds_alternative<otter::crash_report>(r)) crash_reports.fetch_add(1);
    };
    otter::node node(options);
    return node.run(main_process, seconds, clients);
  } catch (const otter::runtime_unavailable& e) {
    // The kernel refused io_uring (a seccomp policy, an old kernel...): say why.
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
