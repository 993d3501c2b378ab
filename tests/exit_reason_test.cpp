#include <otter/exit_reason.hpp>

#include <catch2/catch.hpp>

#include <sstream>

using otter::exit_reason;

TEST_CASE("exit_reason - prints in Erlang's terms", "[exit_reason]") {
  CHECK(exit_reason::normal().to_string() == "normal");
  CHECK(exit_reason::kill().to_string() == "kill");
  CHECK(exit_reason::killed().to_string() == "killed");
  CHECK(exit_reason::shutdown().to_string() == "shutdown");
  CHECK(exit_reason::shutdown("reconfig").to_string() == "{shutdown,\"reconfig\"}");
  CHECK(exit_reason::noproc().to_string() == "noproc");
  CHECK(exit_reason::noconnection().to_string() == "noconnection");
  CHECK(exit_reason::timeout().to_string() == "timeout");
  CHECK(exit_reason::custom("my_reason").to_string() == "my_reason");
  CHECK(exit_reason::error("std::runtime_error", "say \"hi\"").to_string() ==
        "{error,std::runtime_error,\"say \\\"hi\\\"\"}");
  std::ostringstream os;
  os << exit_reason::timeout();
  CHECK(os.str() == "timeout");
}

TEST_CASE("exit_reason - only normal is normal; the default is normal", "[exit_reason]") {
  CHECK(exit_reason{}.is_normal());
  CHECK(exit_reason::normal().is_normal());
  CHECK_FALSE(exit_reason::shutdown().is_normal());
  CHECK_FALSE(exit_reason::custom("normal").is_normal());
}

TEST_CASE("exit_reason - compares by kind and content", "[exit_reason]") {
  CHECK(exit_reason::custom("a") == exit_reason::custom("a"));
  CHECK(exit_reason::custom("a") != exit_reason::custom("b"));
  CHECK(exit_reason::shutdown() != exit_reason::shutdown("x"));
  CHECK(exit_reason::shutdown("x") == exit_reason::shutdown("x"));
  CHECK(exit_reason::error("T", "w") == exit_reason::error("T", "w"));
  CHECK(exit_reason::error("T", "w") != exit_reason::error("U", "w"));
  CHECK(exit_reason::kill() != exit_reason::killed());
}

TEST_CASE("exit_reason - exposes the detail and the error type", "[exit_reason]") {
  CHECK(exit_reason::shutdown("d").detail() == "d");
  CHECK(exit_reason::custom("v").detail() == "v");
  const exit_reason e = exit_reason::error("std::logic_error", "oops");
  CHECK(e.detail() == "oops");
  CHECK(e.error_type() == "std::logic_error");
  CHECK(exit_reason::custom("v").error_type().empty());
}
