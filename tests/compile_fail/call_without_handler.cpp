// expect: the server has no handle_call for this request type
#include <otter/gen_server.hpp>

namespace gs = otter::gen_server;

struct get {};
struct put {
  int value;
};

struct server {
  int handle_call(get) { return 1; }
};

otter::process client(otter::server_ref<server> s) {
  co_await gs::call(s, put{2});
}
