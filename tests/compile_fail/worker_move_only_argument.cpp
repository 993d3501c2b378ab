// expect: the function and arguments of a worker are copied for each start and restart
#include <memory>

#include <otter/supervisor.hpp>

otter::process worker(std::unique_ptr<int> state) {
  (void)state;
  co_return;
}

otter::child_spec spec() {
  return otter::child_spec::worker("w", worker, std::make_unique<int>(1));
}
