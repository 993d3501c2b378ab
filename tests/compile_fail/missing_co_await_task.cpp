// expect: an otter::task does nothing until you co_await it
// flags: -Werror=unused-result
#include <otter/process.hpp>
#include <otter/task.hpp>

otter::task<int> compute() { co_return 1; }

otter::process body() {
  compute();
  co_return;
}
