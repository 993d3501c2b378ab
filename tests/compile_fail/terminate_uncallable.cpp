// expect: otter cannot call this terminate
#include <otter/gen_server.hpp>

namespace gs = otter::gen_server;

struct server {
  void terminate(int code) { (void)code; }
};

otter::process starter() {
  auto s = co_await gs::start_link<server>();
  (void)s;
}
