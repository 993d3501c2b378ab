// expect: otter::receive does nothing until you co_await it
// flags: -Werror=unused-result
#include <otter/process.hpp>
#include <otter/receive.hpp>

otter::process body() {
  otter::receive<int>();
  co_return;
}
