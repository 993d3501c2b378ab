// expect: the arguments do not match the function's parameters
#include <string>

#include <otter/spawn.hpp>

otter::process greeter(std::string name, int times) {
  (void)name, (void)times;
  co_return;
}

otter::process parent() {
  otter::spawn(greeter, std::string("otter"));
  co_return;
}
