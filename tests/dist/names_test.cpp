#include "../../lib/dist/names.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

using otter::dist::parse_node_name;

TEST_CASE("names - alive@host splits into its parts", "[dist][names]") {
  auto n = parse_node_name("app@localhost", false);
  REQUIRE(n);
  CHECK(n->alive == "app");
  CHECK(n->host == "localhost");
  CHECK(n->full() == "app@localhost");
  auto l = parse_node_name("app@host.example.com", true);
  REQUIRE(l);
  CHECK(l->host == "host.example.com");
  CHECK(l->long_name);
}

TEST_CASE("names - a name without a host gets this machine's host name", "[dist][names]") {
  char buf[256] = {};
  REQUIRE(::gethostname(buf, sizeof buf - 1) == 0);
  const std::string full(buf);
  auto s = parse_node_name("app", false);
  REQUIRE(s);
  CHECK(s->host == full.substr(0, full.find('.')));
  auto l = parse_node_name("app", true);
  REQUIRE(l);
  CHECK(l->host == full);
}

TEST_CASE("names - a short name with dots in its host is refused, pointing to long names", "[dist][names]") {
  std::string err;
  CHECK_FALSE(parse_node_name("app@127.0.0.1", false, &err));
  CHECK_THAT(err, Catch::Contains("use long names"));
  CHECK(parse_node_name("app@127.0.0.1", true));
}

TEST_CASE("names - the alive part must be 1..255 of letters, digits, _ and -", "[dist][names]") {
  std::string err;
  CHECK(parse_node_name("a-b_C9@h", false));
  CHECK_FALSE(parse_node_name("@h", false, &err));
  CHECK_THAT(err, Catch::Contains("empty"));
  CHECK_FALSE(parse_node_name("a b@h", false, &err));
  CHECK_FALSE(parse_node_name("a.b@h", false, &err));
  CHECK_FALSE(parse_node_name("a@", false, &err));
  CHECK_FALSE(parse_node_name("a@b@c", false, &err));
  CHECK_FALSE(parse_node_name(std::string(256, 'a') + "@h", false, &err));
}

TEST_CASE("names - the whole name is at most 255 bytes", "[dist][names]") {
  CHECK(parse_node_name(std::string(200, 'a') + "@" + std::string(54, 'h'), false));
  CHECK_FALSE(parse_node_name(std::string(200, 'a') + "@" + std::string(55, 'h'), false));
}
