// expect: otter::sleep does nothing until you co_await it
// flags: -Werror=unused-result
#include <chrono>

#include <otter/process.hpp>
#include <otter/timer.hpp>

otter::process body() {
  otter::sleep(std::chrono::milliseconds(10));
  co_return;
}
