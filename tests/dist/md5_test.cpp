#include "../../lib/dist/md5.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {
std::string hex(const otter::dist::md5_digest& d) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto b : d) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}
} // namespace

TEST_CASE("md5 - the RFC 1321 test suite digests match", "[dist][md5]") {
  using otter::dist::md5;
  CHECK(hex(md5("")) == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(hex(md5("a")) == "0cc175b9c0f1b6a831c399e269772661");
  CHECK(hex(md5("abc")) == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(hex(md5("message digest")) == "f96b697d7cb7938d525a2f31aaf161d0");
  CHECK(hex(md5("abcdefghijklmnopqrstuvwxyz")) == "c3fcd3d76192e4007dfb496cca67e13b");
  CHECK(hex(md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")) ==
        "d174ab98d277d9f5a5611c2c9f419d9f");
  CHECK(hex(md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890")) ==
        "57edf4a22be3c955ac49da2e2107b67a");
}

TEST_CASE("md5 - inputs around the 56- and 64-byte padding edges digest correctly", "[dist][md5]") {
  using otter::dist::md5;
  // Reference values from coreutils md5sum.
  CHECK(hex(md5(std::string(55, 'a'))) == "ef1772b6dff9a122358552954ad0df65");
  CHECK(hex(md5(std::string(56, 'a'))) == "3b0c8ac703f828b04c6c197006d17218");
  CHECK(hex(md5(std::string(64, 'a'))) == "014842d480b571495a4a0363793f7367");
  CHECK(hex(md5(std::string(1000000, 'a'))) == "7707d6ae4e027c70eea2a935c2296f21");
}

TEST_CASE("md5 - the byte-span and string overloads agree", "[dist][md5]") {
  const std::string s = "secret4294967295";
  CHECK(otter::dist::md5(s) == otter::dist::md5(std::as_bytes(std::span<const char>(s.data(), s.size()))));
}
