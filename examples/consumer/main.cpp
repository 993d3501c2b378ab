// consumer: a program that uses otter the way another project does — from an
// installed prefix through pkg-config, or as a meson subproject (meson.build
// next to this file). tests/packaging/check-install builds it both ways.
//
//   g++ -std=c++20 main.cpp $(pkg-config --cflags --libs otter) -o consumer
//
// It runs a node, spawns a process, talks to it with send and receive, and
// keeps a count in a gen_server. Prints `consumer: ok` and exits 0, or exits 1.

#include <otter/otter.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>

using namespace std::chrono_literals;
namespace gs = otter::gen_server;

// Messages between processes are plain types.
struct square {
  otter::pid reply_to;
  int n;
};
struct squared {
  int n;
};

otter::process squarer() {
  const square job = co_await otter::receive<square>();
  otter::send(job.reply_to, squared{job.n * job.n});
}

// A gen_server: calls are answered by the handle_call overload for their type.
struct add {
  int n;
};
struct total {
  using reply_type = int;
};

class counter {
public:
  void init(int start) { sum_ = start; }
  int handle_call(add a) { return sum_ += a.n; }
  int handle_call(total) { return sum_; }

private:
  int sum_ = 0;
};

otter::process main_process() {
  const otter::pid worker = otter::spawn(squarer);
  otter::send(worker, square{otter::self(), 7});
  // Bounded: a reply that does not come within a second is a failure.
  const int n = co_await otter::receive([](squared s) { return s.n; }, otter::after(1s, [] { return -1; }));
  if (n != 49) throw std::runtime_error("the squarer did not answer 49");

  const auto count = (co_await gs::start_link<counter>(n)).value();
  co_await gs::call(count, add{1});
  const int sum = co_await gs::call(count, total{});
  if (sum != 50) throw std::runtime_error("the counter did not reach 50");
  co_await gs::stop(count);

  std::printf("consumer: ok (C++ %ld)\n", static_cast<long>(__cplusplus));
}

int main() {
  otter::node node;
  return node.run(main_process); // 0 when main_process returns, 1 if it throws
}
