// expect: a type listed in remote_requests has no term codec
// Callers on other nodes send terms: a listed request type must decode from one.
#include <otter/gen_server.hpp>

namespace gs = otter::gen_server;

struct add {
  int n; // missing: static constexpr auto term_fields = otter::term_tuple("add", &add::n);
};

struct server {
  using remote_requests = gs::remote<add>;
  int handle_call(add a) { return a.n; }
};

otter::process starter() { auto s = co_await gs::start_link<server>(); (void)s; }
