// expect: the server's init cannot be called with the start arguments
// With an init, otter must not fall back to a constructor taking the arguments.
#include <string>

#include <otter/gen_server.hpp>

namespace gs = otter::gen_server;

struct server {
  server() = default;
  explicit server(std::string n) : name(std::move(n)) {}
  void init(std::string n, int size) { name = std::move(n), capacity = size; }
  std::string name;
  int capacity = 0;
};

otter::process starter() {
  auto s = co_await gs::start_link<server>(std::string("cache"));
  (void)s;
}
