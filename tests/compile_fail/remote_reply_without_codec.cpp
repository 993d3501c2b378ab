// expect: a call listed in remote_requests replies a type without a term codec
// The reply to a caller on another node goes back as a term: its type needs a codec.
#include <otter/gen_server.hpp>

namespace gs = otter::gen_server;

struct stats {
  int calls; // no codec
};
struct get_stats {
  static constexpr auto term_fields = otter::term_tuple("get_stats");
};

struct server {
  using remote_requests = gs::remote<get_stats>;
  stats handle_call(get_stats) { return {1}; }
};

otter::process starter() { auto s = co_await gs::start_link<server>(); (void)s; }
