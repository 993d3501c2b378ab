// The coroutine code a user writes naturally, which g++ 12 miscompiles
// (docs/gcc12.md), is correct with clang 19, the project's default compiler.
// Each case double-frees (or worse) when built by g++ 12, so it is only
// compiled by clang; ASan+UBSan builds check that every object is destroyed
// exactly once.

#include <otter/gen_server.hpp>

#include <string>

#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/task.hpp>

#include "support/otter_test.hpp"

using namespace otter_test;

#if defined(__clang__)

namespace {

struct lookup {
  std::string key; // an aggregate that owns memory
};

struct echo_server {
  std::string handle_call(const lookup& l) { return "value of " + l.key; }
};

struct job {
  std::string owner;
  int n;
};

otter::task<std::string> length_of(std::string s) { co_return std::to_string(s.size()); }

} // namespace

TEST_CASE("compiler - a brace-initialised request owning a string, inside co_await, is destroyed once",
          "[compiler]") {
  run(deterministic(), []() -> otter::process {
    auto db = (co_await otter::gen_server::start_link<echo_server>()).value();
    const std::string v = co_await otter::gen_server::call(db, lookup{"alice-with-a-name-longer-than-sso"});
    CHECK(v == "value of alice-with-a-name-longer-than-sso");
    const std::string short_one = co_await otter::gen_server::call(db, lookup{"bob"});
    CHECK(short_one == "value of bob");
  });
}

TEST_CASE("compiler - a guard capturing a string by copy inside co_await receive is destroyed once",
          "[compiler]") {
  run(deterministic(), []() -> otter::process {
    const std::string name = "carol-with-a-name-longer-than-sso";
    otter::send(otter::self(), job{"dave", 1});
    otter::send(otter::self(), job{name, 2});
    const int n = co_await otter::receive(otter::when([name](const job& j) { return j.owner == name; },
                                                      [](job j) { return j.n; }));
    CHECK(n == 2);
  });
}

TEST_CASE("compiler - a conditional expression making a string inside co_await is destroyed once",
          "[compiler]") {
  run(deterministic(), []() -> otter::process {
    const bool found = false;
    const std::string hit = "found-it-with-a-long-enough-string";
    const std::string len = co_await length_of(found ? hit : std::string("none-and-long-enough-to-allocate"));
    CHECK(len == "32");
  });
}

#endif

#if !defined(__clang__)
TEST_CASE("compiler - g++ builds leave out the cases that g++ 12 miscompiles (docs/gcc12.md)", "[compiler]") {
  SUCCEED("built by g++: the natural-style cases above are clang-only");
}
#endif
