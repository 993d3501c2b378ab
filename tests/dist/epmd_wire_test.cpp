#include "../../lib/dist/epmd_wire.hpp"

#include <catch2/catch.hpp>

#include <string>

// g++ 12 warns falsely (-Wrestrict) on `str = "literal"` here: strings are
// move-assigned from std::string temporaries instead.

using namespace otter::dist;

namespace {
std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s += static_cast<char>(x);
  return s;
}
} // namespace

TEST_CASE("epmd wire - ALIVE2_REQ is laid out as epmd reads it", "[dist][epmd]") {
  epmd_node n;
  n.name = std::string("ab");
  n.port = 0x1234;
  n.highest = 6;
  n.lowest = 5;
  CHECK(encode_alive2_req(n) == bytes({0, 15, 120, 0x12, 0x34, 77, 0, 0, 6, 0, 5, 0, 2}) + "ab" + bytes({0, 0}));
}

TEST_CASE("epmd wire - a server parses what a client encodes", "[dist][epmd]") {
  epmd_node n;
  n.name = std::string("node1");
  n.port = 5555;
  n.node_type = 72;
  n.extra = std::string("x");
  const std::string all = encode_alive2_req(n) + encode_port_please2_req("node1") + encode_names_req();
  std::string_view in = all;
  epmd_request r;
  std::size_t used = 0;
  REQUIRE(parse_epmd_request(in, r, used) == parse_status::ok);
  CHECK(r.type == epmd_request::kind::alive2);
  CHECK(r.node.name == "node1");
  CHECK(r.node.port == 5555);
  CHECK(r.node.node_type == 72);
  CHECK(r.node.extra == "x");
  in.remove_prefix(used);
  REQUIRE(parse_epmd_request(in, r, used) == parse_status::ok);
  CHECK(r.type == epmd_request::kind::port_please2);
  CHECK(r.name == "node1");
  in.remove_prefix(used);
  REQUIRE(parse_epmd_request(in, r, used) == parse_status::ok);
  CHECK(r.type == epmd_request::kind::names);
  CHECK(used == in.size());
}

TEST_CASE("epmd wire - a partial request needs more, never reads past the end", "[dist][epmd]") {
  epmd_node n;
  n.name = std::string("node1");
  const std::string req = encode_alive2_req(n);
  for (std::size_t i = 0; i < req.size(); ++i) {
    epmd_request r;
    std::size_t used = 0;
    CHECK(parse_epmd_request(std::string_view(req).substr(0, i), r, used) == parse_status::need_more);
  }
}

TEST_CASE("epmd wire - bad requests are refused with a reason", "[dist][epmd]") {
  epmd_request r;
  std::size_t used = 0;
  std::string why;
  CHECK(parse_epmd_request(bytes({0, 0}), r, used, &why) == parse_status::bad);
  CHECK(parse_epmd_request(bytes({0, 1, 99}), r, used, &why) == parse_status::bad);
  CHECK_THAT(why, Catch::Contains("unknown request 99"));
  // a name length that runs past the message
  CHECK(parse_epmd_request(bytes({0, 11, 120, 0, 1, 77, 0, 0, 6, 0, 5, 0, 50}), r, used, &why) == parse_status::bad);
  CHECK(parse_epmd_request(bytes({0, 1, 122}), r, used, &why) == parse_status::bad); // empty name
  // a name with a space
  epmd_node n;
  n.name = std::string("a b");
  CHECK(parse_epmd_request(encode_alive2_req(n), r, used, &why) == parse_status::bad);
}

TEST_CASE("epmd wire - ALIVE2 replies carry a 32-bit creation for v6 nodes, 16-bit for older", "[dist][epmd]") {
  epmd_node v6, v5;
  v5.highest = 5;
  alive2_reply a;
  std::size_t used = 0;
  const std::string x = encode_alive2_reply(v6, 0, 0x01020304);
  CHECK(x == bytes({118, 0, 1, 2, 3, 4}));
  REQUIRE(parse_alive2_reply(x, a, used) == parse_status::ok);
  CHECK(a.creation == 0x01020304);
  CHECK(used == 6);
  const std::string old = encode_alive2_reply(v5, 0, 7);
  REQUIRE(parse_alive2_reply(old, a, used) == parse_status::ok);
  CHECK(used == 4);
  CHECK((a.creation >= 1 && a.creation <= 3));
  CHECK(parse_alive2_reply(x.substr(0, 5), a, used) == parse_status::need_more);
  CHECK(parse_alive2_reply("z", a, used) == parse_status::bad);
}

TEST_CASE("epmd wire - PORT2_RESP round-trips a node, and result 1 means not registered", "[dist][epmd]") {
  epmd_node n;
  n.name = std::string("foo");
  n.port = 40000;
  const std::string m = encode_port2_reply(&n);
  port2_reply p;
  std::size_t used = 0;
  REQUIRE(parse_port2_reply(m, p, used) == parse_status::ok);
  CHECK(p.result == 0);
  CHECK(p.node.name == "foo");
  CHECK(p.node.port == 40000);
  CHECK(used == m.size());
  for (std::size_t i = 0; i < m.size(); ++i) CHECK(parse_port2_reply(m.substr(0, i), p, used) == parse_status::need_more);
  REQUIRE(parse_port2_reply(encode_port2_reply(nullptr), p, used) == parse_status::ok);
  CHECK(p.result == 1);
}

TEST_CASE("epmd wire - a NAMES reply lists each node with its port", "[dist][epmd]") {
  const std::string m = encode_names_reply(4369, {{"a", 1}, {"bb", 65535}});
  auto names = parse_names_reply(m);
  REQUIRE(names);
  CHECK(*names == std::vector<epmd_name>{{"a", 1}, {"bb", 65535}});
  CHECK_FALSE(parse_names_reply("ab"));
  auto odd = parse_names_reply(bytes({0, 0, 17, 17}) + "junk\nname x at port 99999\nname y at port 7\n");
  REQUIRE(odd);
  CHECK(*odd == std::vector<epmd_name>{{"y", 7}});
}

TEST_CASE("epmd wire - the registry refuses a taken name and raises creations on re-registration", "[dist][epmd]") {
  epmd_registry reg(100, 2);
  epmd_node n;
  n.name = std::string("a");
  auto c1 = reg.add(n);
  REQUIRE(c1);
  CHECK(*c1 == 100);
  CHECK_FALSE(reg.add(n));
  reg.remove("a");
  auto c2 = reg.add(n);
  REQUIRE(c2);
  CHECK(*c2 == 101);
  CHECK(reg.find("a") != nullptr);
  CHECK(reg.find("b") == nullptr);
  n.name = std::string("b");
  CHECK(reg.add(n));
  n.name = std::string("c");
  CHECK_FALSE(reg.add(n)); // full
  CHECK(reg.names().size() == 2);
}

TEST_CASE("epmd wire - creations skip 0 and the old 1..3 when they wrap", "[dist][epmd]") {
  epmd_registry reg(0xffffffffu);
  epmd_node n;
  n.name = std::string("a");
  CHECK(*reg.add(n) == 0xffffffffu);
  reg.remove("a");
  CHECK(*reg.add(n) == 4);
}
