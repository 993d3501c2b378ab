// expect: takes a server_ref<Server>, not a pid
#include <otter/gen_server.hpp>

namespace gs = otter::gen_server;

struct get {};

otter::process client(otter::pid server) {
  int value = co_await gs::call(server, get{});
  (void)value;
}
