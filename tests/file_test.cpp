#include <otter/file.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

#include <otter/process.hpp>

#include "support/otter_test.hpp"

using namespace otter_test;

namespace {
std::string temp_path(const char* name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/otter-" + std::to_string(::getpid()) + "-" + name;
}
} // namespace

TEST_CASE("file - writes at offsets and reads them back after fsync", "[file]") {
  run(one_core(), []() -> otter::process {
    const std::string path = temp_path("rw");
    auto f = co_await otter::file::open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    REQUIRE(f);
    auto w1 = co_await f->write_at(0, "hello, ");
    auto w2 = co_await f->write_at(7, "world");
    REQUIRE(w1);
    REQUIRE(w2);
    CHECK(*w2 == 5);
    auto synced = co_await f->fsync();
    CHECK(synced);
    char buf[32] = {};
    auto r = co_await f->read_at(7, std::span<char>(buf, sizeof buf));
    REQUIRE(r);
    CHECK(std::string(buf, *r) == "world");
    auto at_end = co_await f->read_at(100, std::span<char>(buf, sizeof buf));
    REQUIRE(at_end);
    CHECK(*at_end == 0);
    std::remove(path.c_str());
  });
}

TEST_CASE("file - opening a file that does not exist fails with no_such_file_or_directory", "[file]") {
  run(one_core(), []() -> otter::process {
    auto f = co_await otter::file::open("/nonexistent/otter/file");
    REQUIRE_FALSE(f);
    CHECK(f.error() == std::errc::no_such_file_or_directory);
  });
}

TEST_CASE("file - a full disk is reported as no_space_on_device", "[file]") {
  run(one_core(), []() -> otter::process {
    auto f = co_await otter::file::open("/dev/full", O_WRONLY);
    REQUIRE(f);
    auto w = co_await f->write_at(0, "nowhere to go");
    REQUIRE_FALSE(w);
    CHECK(w.error() == std::errc::no_space_on_device);
  });
}

TEST_CASE("file - a closed file fails with bad_file_descriptor", "[file]") {
  run(one_core(), []() -> otter::process {
    otter::file f;
    char buf[4];
    auto r = co_await f.read_at(0, std::span<char>(buf, 4));
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::bad_file_descriptor);
  });
}
