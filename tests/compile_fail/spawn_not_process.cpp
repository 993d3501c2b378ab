// expect: the function must return otter::process
#include <otter/spawn.hpp>
#include <otter/task.hpp>

otter::task<> body(int n) {
  (void)n;
  co_return;
}

otter::process parent() {
  otter::spawn(body, 1);
  co_return;
}
