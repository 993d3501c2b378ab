// MD5 written from RFC 1321: 64-byte blocks, four rounds of sixteen steps.
#include "md5.hpp"

#include <cstring>

namespace otter::dist {

namespace {

constexpr std::uint32_t rotl(std::uint32_t x, int c) { return (x << c) | (x >> (32 - c)); }

// Per-step shift amounts, by round (RFC 1321 section 3.4).
constexpr int shifts[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

// T[i] = floor(2^32 * |sin(i + 1)|), tabulated in the RFC.
constexpr std::uint32_t sine_table[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

struct md5_state {
  std::uint32_t a = 0x67452301, b = 0xefcdab89, c = 0x98badcfe, d = 0x10325476;

  void block(const unsigned char* p) {
    std::uint32_t x[16];
    for (int i = 0; i < 16; ++i) // words are little-endian
      x[i] = std::uint32_t(p[4 * i]) | std::uint32_t(p[4 * i + 1]) << 8 | std::uint32_t(p[4 * i + 2]) << 16 |
             std::uint32_t(p[4 * i + 3]) << 24;
    std::uint32_t aa = a, bb = b, cc = c, dd = d;
    for (int i = 0; i < 64; ++i) {
      const int round = i / 16;
      std::uint32_t f;
      int k;
      switch (round) {
      case 0: f = (bb & cc) | (~bb & dd); k = i; break;
      case 1: f = (bb & dd) | (cc & ~dd); k = (5 * i + 1) % 16; break;
      case 2: f = bb ^ cc ^ dd; k = (3 * i + 5) % 16; break;
      default: f = cc ^ (bb | ~dd); k = (7 * i) % 16; break;
      }
      const std::uint32_t next = bb + rotl(aa + f + x[k] + sine_table[i], shifts[round][i % 4]);
      aa = dd;
      dd = cc;
      cc = bb;
      bb = next;
    }
    a += aa;
    b += bb;
    c += cc;
    d += dd;
  }
};

} // namespace

md5_digest md5(std::span<const std::byte> data) {
  md5_state s;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t n = data.size();
  std::size_t off = 0;
  for (; n - off >= 64; off += 64) s.block(p + off);
  // Padding: 0x80, zeros to 56 mod 64, then the bit length, little-endian.
  unsigned char tail[128] = {};
  const std::size_t rest = n - off;
  if (rest != 0) std::memcpy(tail, p + off, rest);
  tail[rest] = 0x80;
  const std::size_t tail_len = rest < 56 ? 64 : 128;
  const std::uint64_t bits = std::uint64_t(n) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_len - 8 + i] = static_cast<unsigned char>(bits >> (8 * i));
  s.block(tail);
  if (tail_len == 128) s.block(tail + 64);
  md5_digest out;
  const std::uint32_t words[4] = {s.a, s.b, s.c, s.d};
  for (int w = 0; w < 4; ++w)
    for (int i = 0; i < 4; ++i) out[4 * w + i] = static_cast<std::uint8_t>(words[w] >> (8 * i));
  return out;
}

md5_digest md5(std::string_view data) { return md5(std::as_bytes(std::span<const char>(data.data(), data.size()))); }

} // namespace otter::dist
