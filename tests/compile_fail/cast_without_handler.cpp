// expect: the server has no handle_cast for this message type
#include <otter/gen_server.hpp>

namespace gs = otter::gen_server;

struct reset {};
struct add {
  int n;
};

struct server {
  void handle_cast(reset) {}
};

otter::process client(otter::server_ref<server> s) {
  gs::cast(s, add{1});
  co_return;
}
