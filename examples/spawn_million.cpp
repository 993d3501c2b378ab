// spawn_million: a million processes, each saying hello once.
//
// Processes are cheap: one pooled allocation holding the coroutine frame, the
// control block and the mailbox. Run: build/examples/spawn_million [count]

#include <otter/otter.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

long resident_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

struct hello {};
struct started {};

otter::process child(otter::pid parent) {
  otter::send(parent, hello{});
  co_return; // and exit
}

otter::process sleeper() {
  co_await otter::receive<int>(); // blocks until told to go
}

// Each scheduler runs its processes in the order they became ready, so when
// this one runs, every process started before it on its core has run too.
otter::process barrier(otter::pid parent) {
  otter::send(parent, started{});
  co_return;
}

otter::process parent(long count) {
  // 1. Spawn and exit: each child's life is a frame from a pool and back.
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) otter::spawn(child, otter::self());
  for (long i = 0; i < count; ++i) co_await otter::receive<hello>();
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::printf("spawn: %ld processes started, said hello and exited in %.3f s (%.0f ns each)\n", count,
              took.count(), took.count() * 1e9 / static_cast<double>(count));

  // 2. Spread and wait: the same number alive at once, blocked in receive,
  //    half on each core. How much memory does a waiting process take?
  const long before = resident_kib();
  std::vector<otter::pid> waiting;
  waiting.reserve(static_cast<std::size_t>(count));
  for (long i = 0; i < count; ++i) waiting.push_back(otter::spawn(otter::spread(), sleeper));
  for (unsigned core = 0; core < 2; ++core) otter::spawn(otter::on_scheduler(core), barrier, otter::self());
  for (int i = 0; i < 2; ++i) co_await otter::receive<started>(); // all of them are waiting now
  const long grown = resident_kib() - before - static_cast<long>(count * sizeof(otter::pid) / 1024);
  std::printf("memory: %ld processes waiting in receive on 2 cores, %.0f bytes each\n", count,
              static_cast<double>(grown) * 1024.0 / static_cast<double>(count));
  for (otter::pid p : waiting) otter::send(p, 0); // let them go
}

int main(int argc, char** argv) {
  try {
    const long count = argc > 1 ? std::atol(argv[1]) : 1'000'000;
    otter::node_options options;
    options.schedulers = 2;
    otter::node node(options);
    return node.run(parent, count);
  } catch (const otter::runtime_unavailable& e) {
    // The kernel refused io_uring (a seccomp policy, an old kernel...): say why.
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
