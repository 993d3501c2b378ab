// epmd messages: encoding, bounds-checked parsing, and the server's registry.
#include "epmd_wire.hpp"

#include <charconv>

namespace otter::dist {

namespace {

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// A cursor over a message: every read checks the bytes are there.
struct reader {
  std::string_view s;
  std::size_t at = 0;
  bool ok = true;
  std::uint64_t be(int bytes) {
    if (!ok || s.size() - at < static_cast<std::size_t>(bytes)) {
      ok = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(s[at++]);
    return v;
  }
  std::string_view take(std::size_t n) {
    if (!ok || s.size() - at < n) {
      ok = false;
      return {};
    }
    const auto r = s.substr(at, n);
    at += n;
    return r;
  }
};

std::string with_length(std::string_view body) {
  std::string out;
  put_be(out, body.size(), 2);
  out += body;
  return out;
}

// PortNo:2, NodeType:1, Protocol:1, Highest:2, Lowest:2, Nlen:2, Name, Elen:2, Extra.
void put_node(std::string& m, const epmd_node& n) {
  put_be(m, n.port, 2);
  m += static_cast<char>(n.node_type);
  m += static_cast<char>(n.protocol);
  put_be(m, n.highest, 2);
  put_be(m, n.lowest, 2);
  put_be(m, n.name.size(), 2);
  m += n.name;
  put_be(m, n.extra.size(), 2);
  m += n.extra;
}

// The same, read; false if a field is missing or over its limit.
bool get_node(reader& r, epmd_node& n, std::string* error) {
  n.port = static_cast<std::uint16_t>(r.be(2));
  n.node_type = static_cast<std::uint8_t>(r.be(1));
  n.protocol = static_cast<std::uint8_t>(r.be(1));
  n.highest = static_cast<std::uint16_t>(r.be(2));
  n.lowest = static_cast<std::uint16_t>(r.be(2));
  const std::size_t nlen = r.be(2);
  if (r.ok && (nlen == 0 || nlen > epmd_max_name)) {
    if (error) *error = "node name of " + std::to_string(nlen) + " bytes";
    return false;
  }
  n.name = std::string(r.take(nlen));
  const std::size_t elen = r.be(2);
  if (r.ok && elen > epmd_max_extra) {
    if (error) *error = "extra of " + std::to_string(elen) + " bytes";
    return false;
  }
  n.extra = std::string(r.take(elen));
  if (!r.ok && error) *error = "truncated node description";
  return r.ok;
}

bool printable_name(std::string_view n) {
  for (char c : n) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '@') return false;
  }
  return true;
}

} // namespace

std::string encode_alive2_req(const epmd_node& node) {
  std::string m(1, static_cast<char>(epmd_tag::alive2_req));
  put_node(m, node);
  return with_length(m);
}

std::string encode_port_please2_req(std::string_view name) {
  std::string m(1, static_cast<char>(epmd_tag::port_please2_req));
  m += name;
  return with_length(m);
}

std::string encode_names_req() { return with_length(std::string(1, static_cast<char>(epmd_tag::names_req))); }

parse_status parse_alive2_reply(std::string_view in, alive2_reply& out, std::size_t& used) {
  if (in.empty()) return parse_status::need_more;
  const auto tag = static_cast<std::uint8_t>(in[0]);
  const int creation_bytes = tag == epmd_tag::alive2_x_resp ? 4 : tag == epmd_tag::alive2_resp ? 2 : 0;
  if (creation_bytes == 0) return parse_status::bad;
  reader r{in, 1};
  out.result = static_cast<std::uint8_t>(r.be(1));
  out.creation = static_cast<std::uint32_t>(r.be(creation_bytes));
  if (!r.ok) return parse_status::need_more;
  used = r.at;
  return parse_status::ok;
}

parse_status parse_port2_reply(std::string_view in, port2_reply& out, std::size_t& used) {
  if (in.empty()) return parse_status::need_more;
  if (static_cast<std::uint8_t>(in[0]) != epmd_tag::port2_resp) return parse_status::bad;
  reader r{in, 1};
  out.result = static_cast<std::uint8_t>(r.be(1));
  if (!r.ok) return parse_status::need_more;
  if (out.result != 0) {
    used = r.at;
    return parse_status::ok;
  }
  std::string why;
  if (!get_node(r, out.node, &why)) return r.ok ? parse_status::bad : parse_status::need_more;
  used = r.at;
  return parse_status::ok;
}

std::optional<std::vector<epmd_name>> parse_names_reply(std::string_view all) {
  if (all.size() < 4) return std::nullopt;
  std::vector<epmd_name> names;
  std::string_view rest = all.substr(4);
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    constexpr std::string_view head = "name ", mid = " at port ";
    if (line.substr(0, head.size()) != head) continue;
    const auto m = line.rfind(mid);
    if (m == std::string_view::npos || m < head.size()) continue;
    const std::string_view num = line.substr(m + mid.size());
    unsigned port = 0;
    const auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), port);
    if (ec != std::errc{} || p != num.data() + num.size() || port > 65535) continue;
    names.push_back({std::string(line.substr(head.size(), m - head.size())), static_cast<std::uint16_t>(port)});
  }
  return names;
}

parse_status parse_epmd_request(std::string_view in, epmd_request& out, std::size_t& used, std::string* error) {
  auto bad = [error](std::string why) {
    if (error) *error = std::move(why);
    return parse_status::bad;
  };
  if (in.size() < 2) return parse_status::need_more;
  const std::size_t len = static_cast<std::size_t>(static_cast<unsigned char>(in[0])) << 8 | static_cast<unsigned char>(in[1]);
  if (len == 0) return bad("an empty request");
  if (in.size() < 2 + len) return parse_status::need_more;
  const std::string_view msg = in.substr(2, len);
  used = 2 + len;
  switch (static_cast<std::uint8_t>(msg[0])) {
  case epmd_tag::alive2_req: {
    out.type = epmd_request::kind::alive2;
    reader r{msg, 1};
    std::string why;
    if (!get_node(r, out.node, &why)) return bad("bad ALIVE2_REQ: " + why);
    if (!printable_name(out.node.name)) return bad("bad ALIVE2_REQ: the name has bad bytes");
    return parse_status::ok;
  }
  case epmd_tag::port_please2_req:
    out.type = epmd_request::kind::port_please2;
    if (msg.size() < 2 || msg.size() - 1 > epmd_max_name) return bad("bad PORT_PLEASE2_REQ name length");
    out.name = std::string(msg.substr(1));
    return parse_status::ok;
  case epmd_tag::names_req:
    out.type = epmd_request::kind::names;
    return parse_status::ok;
  default: return bad("unknown request " + std::to_string(static_cast<unsigned char>(msg[0])));
  }
}

std::string encode_alive2_reply(const epmd_node& node, std::uint8_t result, std::uint32_t creation) {
  std::string m;
  if (node.highest >= 6) {
    m += static_cast<char>(epmd_tag::alive2_x_resp);
    m += static_cast<char>(result);
    put_be(m, creation, 4);
  } else {
    m += static_cast<char>(epmd_tag::alive2_resp);
    m += static_cast<char>(result);
    put_be(m, creation % 3 + 1, 2); // old nodes take creations 1..3
  }
  return m;
}

std::string encode_port2_reply(const epmd_node* node) {
  std::string m(1, static_cast<char>(epmd_tag::port2_resp));
  if (node == nullptr) {
    m += '\x01';
    return m;
  }
  m += '\0';
  put_node(m, *node);
  return m;
}

std::string encode_names_reply(std::uint32_t epmd_port, const std::vector<epmd_name>& names) {
  std::string m;
  put_be(m, epmd_port, 4);
  for (const auto& n : names) m += "name " + n.name + " at port " + std::to_string(n.port) + "\n";
  return m;
}

epmd_registry::epmd_registry(std::uint32_t first_creation, std::size_t max_nodes)
    : first_creation_(first_creation < 4 ? 4 : first_creation), max_nodes_(max_nodes) {}

std::optional<std::uint32_t> epmd_registry::add(epmd_node node) {
  if (nodes_.size() >= max_nodes_ || nodes_.find(node.name) != nodes_.end()) return std::nullopt;
  auto last = last_creation_.find(node.name);
  std::uint32_t creation = first_creation_;
  if (last != last_creation_.end()) {
    creation = last->second + 1;
    if (creation < 4) creation = 4; // wrapped: 0 is reserved, 1..3 belong to old nodes
  } else if (last_creation_.size() >= 4 * max_nodes_) {
    // Forget names that are not registered now so the map stays bounded.
    for (auto it = last_creation_.begin(); it != last_creation_.end();)
      it = nodes_.count(it->first) != 0 ? std::next(it) : last_creation_.erase(it);
  }
  last_creation_[node.name] = creation;
  const std::string name = node.name;
  nodes_.emplace(name, std::move(node));
  return creation;
}

void epmd_registry::remove(std::string_view name) {
  auto it = nodes_.find(name);
  if (it != nodes_.end()) nodes_.erase(it);
}

const epmd_node* epmd_registry::find(std::string_view name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::vector<epmd_name> epmd_registry::names() const {
  std::vector<epmd_name> out;
  out.reserve(nodes_.size());
  for (const auto& [name, node] : nodes_) out.push_back({name, node.port});
  return out;
}

} // namespace otter::dist
