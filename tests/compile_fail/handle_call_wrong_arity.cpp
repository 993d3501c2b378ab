// expect: handle_call for this request takes the wrong parameters
#include <otter/gen_server.hpp>

namespace gs = otter::gen_server;

struct lookup {
  int key;
};

struct server {
  int handle_call(lookup l, int fallback) { return l.key + fallback; } // a second parameter otter cannot give
};

otter::process client(otter::server_ref<server> s) {
  int value = co_await gs::call(s, lookup{1});
  (void)value;
}
