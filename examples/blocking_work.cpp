// blocking_work: what to do with code that blocks. Processes are cooperative:
// a process that blocks its thread (a synchronous driver, sleep(), a long
// computation) holds its whole core, and every process and timer there waits.
// otter::blocking runs such work on the node's blocking threads instead, and
// node.send lets threads that are not the node's hand work in.
//
// Run: build/examples/blocking_work

#include <otter/otter.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

using namespace std::chrono_literals;

// A synchronous "database driver": each query blocks its thread for 50 ms.
struct slow_database {
  std::string query(int id) const {
    std::this_thread::sleep_for(50ms);
    return "row " + std::to_string(id);
  }
};

struct sensor_reading {
  int value;
};
struct done {};

// Four lookups at once: each waits off the core, so together they take about
// 50 ms, not 200, and the heartbeat below keeps ticking meanwhile.
otter::process lookup(std::shared_ptr<const slow_database> db, int id, otter::pid report_to) {
  // The lambda owns what it uses (db by shared_ptr, id by value): it runs on
  // another thread, and would run to its end even if this process were killed.
  // (Named first: g++ 12 mishandles owning captures inside co_await, docs/gcc12.md.)
  auto query = [db, id] { return db->query(id); };
  std::string row = co_await otter::blocking(std::move(query));
  otter::send(report_to, std::move(row));
}

otter::process heartbeat() {
  for (int beat = 1;; ++beat) {
    co_await otter::sleep(10ms);
    std::printf("  heartbeat %d\n", beat);
  }
}

// Reads what a thread outside the node sends it by name.
otter::process sensor_sink(otter::pid report_to) {
  otter::register_name("sensors", otter::self());
  int sum = 0;
  for (;;) {
    const bool more = co_await otter::receive([&sum](sensor_reading r) { sum += r.value; return true; },
                                              [](done) { return false; });
    if (!more) break;
  }
  otter::send(report_to, std::string("sensor readings add up to " + std::to_string(sum)));
}

otter::process main_process(otter::node* node) {
  const otter::pid me = otter::self();
  const otter::pid beat = otter::spawn_link(heartbeat);

  const auto start = std::chrono::steady_clock::now();
  auto db = std::make_shared<const slow_database>();
  for (int id = 1; id <= 4; ++id) otter::spawn(lookup, db, id, me);
  for (int i = 0; i < 4; ++i) std::printf("lookup: %s\n", (co_await otter::receive<std::string>()).c_str());
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  std::printf("4 blocking queries of 50 ms each took %lld ms, and the core kept running\n",
              static_cast<long long>(took.count()));
  otter::unlink(beat);
  otter::exit(beat, otter::exit_reason::kill());

  // A thread of the program that is not the node's (a C library's callback
  // thread, a GUI loop) hands messages in with node.send.
  otter::spawn(sensor_sink, me);
  while (!otter::whereis("sensors")) co_await otter::sleep(1ms);
  std::thread outside([node] {
    for (int i = 1; i <= 100; ++i) (void)node->send("sensors", sensor_reading{i});
    (void)node->send("sensors", done{});
  });
  std::printf("%s\n", (co_await otter::receive<std::string>()).c_str());
  outside.join();
}

int main() {
  try {
    otter::node node;
    return node.run(main_process, &node);
  } catch (const otter::runtime_unavailable& e) {
    // The kernel refused io_uring (a seccomp policy, an old kernel...): say why.
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
