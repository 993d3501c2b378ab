// expect: a type listed in info_types has no handle_info taking it
#include <otter/gen_server.hpp>

namespace gs = otter::gen_server;

struct tick {};
struct tock {};

struct server {
  using info_types = gs::info<tick, tock>;
  void handle_info(tick) {}
  void handle_info(const otter::down_message&) {}
};

otter::process starter() {
  auto s = co_await gs::start_link<server>();
  (void)s;
}
