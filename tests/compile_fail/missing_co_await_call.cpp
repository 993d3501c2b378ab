// expect: otter::gen_server::call does nothing until you co_await it
// flags: -Werror=unused-result
#include <otter/gen_server.hpp>

struct get {};
struct server {
  int handle_call(get) { return 1; }
};

otter::process client(otter::server_ref<server> s) {
  otter::gen_server::call(s, get{});
  co_return;
}
