// expect: list the message types it takes, in the order to try them, in the server: using info_types = otter::gen_server::info<T1, T2>;
#include <otter/gen_server.hpp>

namespace gs = otter::gen_server;

struct tick {};

struct server {
  void handle_info(tick) {}
  void handle_info(const otter::down_message&) {} // overloads: otter cannot see which types they take
};

otter::process starter() {
  auto s = co_await gs::start_link<server>();
  (void)s;
}
