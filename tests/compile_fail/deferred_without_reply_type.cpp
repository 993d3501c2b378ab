// expect: declare using reply_type = R; in the request type
// A deferred handle_call(Req, reply_to<R>) gives the caller no way to know R.
#include <otter/gen_server.hpp>

namespace gs = otter::gen_server;

struct later {}; // missing: using reply_type = int;

struct server {
  void handle_call(later, gs::reply_to<int> from) { from.reply(1); }
};

otter::process client(otter::server_ref<server> s) {
  int value = co_await gs::call(s, later{});
  (void)value;
}
