// libFuzzer harness for the epmd message parsers and the server's registry.
//
// The input is parsed as a stream of requests, the way the server reads a
// client; every request parsed is re-encoded and parsed again to the same
// value, and applied to a small registry whose invariants are checked. The same
// bytes also go through the client-side reply parsers, each prefix of which
// must need more, never be accepted differently.

#include "../../lib/dist/epmd_wire.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace dist = otter::dist;

namespace {

bool same(const dist::epmd_node& a, const dist::epmd_node& b) {
  return a.name == b.name && a.port == b.port && a.node_type == b.node_type && a.protocol == b.protocol &&
         a.highest == b.highest && a.lowest == b.lowest && a.extra == b.extra;
}

void check_requests(std::string_view in) {
  dist::epmd_registry reg(4, 8);
  for (int i = 0; i < 10000 && !in.empty(); ++i) {
    dist::epmd_request r;
    std::size_t used = 0;
    std::string why;
    const auto st = dist::parse_epmd_request(in, r, used, &why);
    if (st == dist::parse_status::need_more) return;
    if (st == dist::parse_status::bad) {
      if (why.empty()) std::abort();
      return;
    }
    if (used == 0 || used > in.size()) std::abort();
    in.remove_prefix(used);
    switch (r.type) {
    case dist::epmd_request::kind::alive2: {
      dist::epmd_request again;
      std::size_t used2 = 0;
      const std::string enc = dist::encode_alive2_req(r.node);
      if (dist::parse_epmd_request(enc, again, used2) != dist::parse_status::ok || used2 != enc.size() ||
          !same(again.node, r.node))
        std::abort();
      const auto c = reg.add(r.node);
      if (c && *c == 0) std::abort();
      if (reg.size() > 8) std::abort();
      if (c && reg.find(r.node.name) == nullptr) std::abort();
      if ((r.node.port & 1) != 0) reg.remove(r.node.name);
      break;
    }
    case dist::epmd_request::kind::port_please2: {
      const std::string reply = dist::encode_port2_reply(reg.find(r.name));
      dist::port2_reply p;
      std::size_t used2 = 0;
      if (dist::parse_port2_reply(reply, p, used2) != dist::parse_status::ok || used2 != reply.size()) std::abort();
      break;
    }
    case dist::epmd_request::kind::names: {
      const auto names = dist::parse_names_reply(dist::encode_names_reply(4369, reg.names()));
      if (!names || names->size() != reg.size()) std::abort();
      break;
    }
    }
  }
}

template <class Reply, class Parse>
void check_reply(std::string_view in, Parse parse) {
  Reply r;
  std::size_t used = 0;
  const auto st = parse(in, r, used);
  if (st == dist::parse_status::ok && (used == 0 || used > in.size())) std::abort();
  if (st == dist::parse_status::ok) {
    // Every shorter prefix needs more: a reply is recognised only when whole.
    for (std::size_t n = 1; n < used; ++n) {
      Reply shorter;
      std::size_t u = 0;
      if (parse(in.substr(0, n), shorter, u) != dist::parse_status::need_more) std::abort();
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_requests(in);
  check_reply<dist::alive2_reply>(in, [](std::string_view s, dist::alive2_reply& r, std::size_t& u) {
    return dist::parse_alive2_reply(s, r, u);
  });
  check_reply<dist::port2_reply>(in, [](std::string_view s, dist::port2_reply& r, std::size_t& u) {
    return dist::parse_port2_reply(s, r, u);
  });
  (void)dist::parse_names_reply(in);
  return 0;
}
