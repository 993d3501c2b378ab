// expect: handle_info takes exactly one parameter, the message
#include <otter/gen_server.hpp>

namespace gs = otter::gen_server;

struct server {
  void handle_info(otter::message m, otter::pid from) { (void)m, (void)from; }
};

otter::process starter() {
  auto s = co_await gs::start_link<server>();
  (void)s;
}
