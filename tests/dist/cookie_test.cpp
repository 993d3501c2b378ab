#include "../../lib/dist/cookie.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

namespace {

// A private directory, removed with what it holds.
struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/otter-cookie-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

std::string write_file(const std::string& path, const std::string& text, mode_t mode) {
  { std::ofstream(path) << text; }
  ::chmod(path.c_str(), mode);
  return path;
}

} // namespace

TEST_CASE("cookie - an owner-only file is read with trailing whitespace trimmed", "[dist][cookie]") {
  temp_dir d;
  const auto p = write_file(d.path + "/c", "MONSTER \r\n\n", 0400);
  const auto r = otter::dist::read_cookie_file(p);
  CHECK(r.error.empty());
  CHECK(r.cookie == "MONSTER");
}

TEST_CASE("cookie - a file readable by group or others is refused with its path and mode", "[dist][cookie]") {
  temp_dir d;
  const auto p = write_file(d.path + "/c", "ABC", 0644);
  const auto r = otter::dist::read_cookie_file(p);
  CHECK(r.cookie.empty());
  CHECK_THAT(r.error, Catch::Contains(p) && Catch::Contains("must be accessible by owner only") &&
                          Catch::Contains("0644"));
}

TEST_CASE("cookie - a missing file is created with 20 uppercase letters, mode 0400", "[dist][cookie]") {
  temp_dir d;
  const std::string p = d.path + "/.erlang.cookie";
  const auto r = otter::dist::read_cookie_file(p);
  REQUIRE(r.error.empty());
  REQUIRE(r.cookie.size() == 20);
  for (char c : r.cookie) CHECK((c >= 'A' && c <= 'Z'));
  struct stat st{};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0400);
  CHECK(otter::dist::read_cookie_file(p).cookie == r.cookie); // and read back the same
}

TEST_CASE("cookie - an empty or whitespace-only file is refused", "[dist][cookie]") {
  temp_dir d;
  const auto p = write_file(d.path + "/c", " \n", 0600);
  CHECK_THAT(otter::dist::read_cookie_file(p).error, Catch::Contains("empty"));
}

TEST_CASE("cookie - a cookie longer than 255 bytes is refused", "[dist][cookie]") {
  temp_dir d;
  CHECK(otter::dist::read_cookie_file(write_file(d.path + "/ok", std::string(255, 'X'), 0600)).cookie.size() == 255);
  CHECK_THAT(otter::dist::read_cookie_file(write_file(d.path + "/long", std::string(256, 'X'), 0600)).error,
             Catch::Contains("longer than 255"));
}

TEST_CASE("cookie - a directory is not a cookie file", "[dist][cookie]") {
  temp_dir d;
  ::mkdir((d.path + "/dir").c_str(), 0700);
  CHECK_THAT(otter::dist::read_cookie_file(d.path + "/dir").error, Catch::Contains("not a regular file"));
}

TEST_CASE("cookie - default_cookie reads HOME/.erlang.cookie", "[dist][cookie]") {
  temp_dir d;
  write_file(d.path + "/.erlang.cookie", "HOMECOOKIE\n", 0400);
  const char* old = std::getenv("HOME");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("HOME", d.path.c_str(), 1);
  const auto r = otter::dist::default_cookie();
  if (old != nullptr) ::setenv("HOME", saved.c_str(), 1); else ::unsetenv("HOME");
  CHECK(r.cookie == "HOMECOOKIE");
}
