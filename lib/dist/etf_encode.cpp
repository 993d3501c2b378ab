// Encoding otter::term in the external term format.
//
// One pass over the term, writing through a raw pointer into the output
// string: each step makes room for what it writes (a compare, growing the
// string by at least what was written so far when short), and the string is
// cut to the bytes written at the end.
#include "etf.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include <otter/dist/node_table.hpp>

#include "etf_tags.hpp"
#include "term_access.hpp"

namespace otter::dist {

namespace {

namespace tag = etf_tag;
using K = term::kind;
using ta = term_access;

struct encoder {
  std::string& s;
  const local_node& local;
  const std::size_t start; // s.size() before this encoding
  char* p;                 // the next byte to write, inside s
  char* lim;               // the end of s

  encoder(std::string& out, const local_node& l)
      : s(out), local(l), start(out.size()), p(out.data() + out.size()), lim(p) {}

  // At least `n` bytes writable at p.
  void room(std::size_t n) {
    if (static_cast<std::size_t>(lim - p) < n) grow(n);
  }
  [[gnu::noinline]] void grow(std::size_t n) {
    const auto used = static_cast<std::size_t>(p - s.data());
    s.resize(used + std::max({n, 2 * (used - start), std::size_t{256}}));
    p = s.data() + used;
    lim = s.data() + s.size();
  }
  void finish() { s.resize(static_cast<std::size_t>(p - s.data())); }

  // Writers: room was made.
  void u8(std::uint8_t v) { *p++ = static_cast<char>(v); }
  void u16(std::uint16_t v) {
    p[0] = static_cast<char>(v >> 8);
    p[1] = static_cast<char>(v);
    p += 2;
  }
  void u32(std::uint32_t v) {
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
    std::memcpy(p, &v, 4);
    p += 4;
  }
  void raw(const char* d, std::size_t n) {
    if (n) std::memcpy(p, d, n);
    p += n;
  }
  // The bytes of an atom, a binary or a fun: an inline one as one 16-byte copy
  // (the bytes past its end are written over next or cut by finish).
  // Room for max(n, 16) bytes was made.
  void bytes_of(const term& t, std::size_t n) {
    if (ta::bytes_inline(t)) {
      std::memcpy(p, ta::bytes_data(t), 16);
      p += n;
    } else {
      raw(ta::bytes_data(t), n);
    }
  }

  // Room for 11 bytes was made.
  void integer(std::int64_t v) {
    if (v >= 0 && v <= 255) {
      p[0] = static_cast<char>(tag::small_integer);
      p[1] = static_cast<char>(v);
      p += 2;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      u8(tag::integer);
      u32(static_cast<std::uint32_t>(v));
    } else {
      std::uint64_t m = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
      std::size_t n = 0;
      while (m) {
        p[3 + n++] = static_cast<char>(m & 0xff);
        m >>= 8;
      }
      p[0] = static_cast<char>(tag::small_big);
      p[1] = static_cast<char>(n);
      p[2] = v < 0 ? 1 : 0;
      p += 3 + n;
    }
  }

  void atom(std::string_view name) {
    room(3 + name.size());
    if (name.size() <= 255) {
      u8(tag::small_atom_utf8);
      u8(static_cast<std::uint8_t>(name.size()));
    } else {
      u8(tag::atom_utf8);
      u16(static_cast<std::uint16_t>(name.size()));
    }
    raw(name.data(), name.size());
  }

  void atom(const term& t) {
    const std::size_t n = ta::bytes_size(t);
    room(3 + std::max<std::size_t>(n, 16));
    if (n <= 255) {
      u8(tag::small_atom_utf8);
      u8(static_cast<std::uint8_t>(n));
    } else {
      u8(tag::atom_utf8);
      u16(static_cast<std::uint16_t>(n));
    }
    bytes_of(t, n);
  }

  void list(const term& t) {
    const auto e = ta::seq(t);
    const term& tail = ta::list_tail(t);
    // One look at the elements: all integers (then their size is known), all bytes (STRING_EXT)?
    bool ints = true, bytes = tail.is_nil() && e.size() <= 65535;
    std::size_t size = 0;
    for (const term& x : e) {
      if (x.type() != K::integer) {
        ints = bytes = false;
        break;
      }
      const std::int64_t v = ta::int_value(x);
      const bool small = v >= 0 && v <= 255;
      bytes = bytes && small;
      size += small ? 2 : v >= INT32_MIN && v <= INT32_MAX ? 5 : 11;
    }
    if (bytes) {
      room(3 + e.size());
      u8(tag::string);
      u16(static_cast<std::uint16_t>(e.size()));
      for (const term& x : e) *p++ = static_cast<char>(ta::int_value(x));
      return;
    }
    if (ints) {
      room(5 + size);
      u8(tag::list);
      u32(static_cast<std::uint32_t>(e.size()));
      for (const term& x : e) integer(ta::int_value(x));
    } else {
      room(5);
      u8(tag::list);
      u32(static_cast<std::uint32_t>(e.size()));
      for (const term& x : e) encode(x);
    }
    encode(tail);
  }

  void encode(const term& t) {
    switch (t.type()) {
    case K::integer:
      room(11);
      integer(ta::int_value(t));
      break;
    case K::big_integer: {
      const auto m = t.big_magnitude();
      room(6 + m.size());
      if (m.size() <= 255) {
        u8(tag::small_big);
        u8(static_cast<std::uint8_t>(m.size()));
      } else {
        u8(tag::large_big);
        u32(static_cast<std::uint32_t>(m.size()));
      }
      u8(t.big_negative() ? 1 : 0);
      raw(reinterpret_cast<const char*>(m.data()), m.size());
      break;
    }
    case K::floating: {
      room(9);
      const std::uint64_t b = ta::raw_bits(t);
      u8(tag::new_float);
      u32(static_cast<std::uint32_t>(b >> 32));
      u32(static_cast<std::uint32_t>(b));
      break;
    }
    case K::atom: atom(t); break;
    case K::binary: {
      const std::size_t n = ta::bytes_size(t);
      room(5 + std::max<std::size_t>(n, 16));
      u8(tag::binary);
      u32(static_cast<std::uint32_t>(n));
      bytes_of(t, n);
      break;
    }
    case K::bitstring: {
      const std::size_t n = ta::bytes_size(t);
      room(6 + std::max<std::size_t>(n, 16));
      u8(tag::bit_binary);
      u32(static_cast<std::uint32_t>(n));
      u8(static_cast<std::uint8_t>(t.bit_size() - (n - 1) * 8));
      bytes_of(t, n);
      break;
    }
    case K::nil:
      room(1);
      u8(tag::nil);
      break;
    case K::list: list(t); break;
    case K::tuple: {
      const auto e = ta::seq(t);
      room(5);
      if (e.size() <= 255) {
        u8(tag::small_tuple);
        u8(static_cast<std::uint8_t>(e.size()));
      } else {
        u8(tag::large_tuple);
        u32(static_cast<std::uint32_t>(e.size()));
      }
      for (const term& x : e) encode(x);
      break;
    }
    case K::map: {
      const auto e = ta::map_entries(t);
      room(5);
      u8(tag::map);
      u32(static_cast<std::uint32_t>(e.size()));
      for (const auto& [k, v] : e) {
        encode(k);
        encode(v);
      }
      break;
    }
    case K::pid: {
      const pid pd = t.as_pid();
      std::string_view name;
      std::uint32_t id, serial, creation;
      if (pd.is_remote()) {
        const auto r = remote_parts(pd);
        const node_entry& n = node_at(r.node);
        name = n.name;
        id = r.id;
        serial = r.serial;
        creation = n.creation;
      } else {
        const auto l = local_pid_parts(pd);
        name = local.name;
        id = l.id;
        serial = l.serial;
        creation = local.creation;
      }
      room(1 + 3 + name.size() + 12);
      u8(tag::new_pid);
      atom(name);
      u32(id);
      u32(serial);
      u32(creation);
      break;
    }
    case K::reference: {
      const term_ref& r = t.as_ref();
      const node_entry& n = node_at(r.node);
      room(3);
      u8(tag::newer_reference);
      u16(r.len);
      atom(n.name);
      room(4 + 4 * r.len);
      u32(n.creation);
      for (std::size_t i = 0; i < r.len; ++i) u32(r.id[i]);
      break;
    }
    case K::port: {
      const node_entry& n = node_at(t.port_node());
      const std::uint64_t id = t.port_id();
      const bool v4 = t.port_is_v4() || id > 0xffffffffu;
      room(1);
      u8(v4 ? tag::v4_port : tag::new_port);
      atom(n.name);
      room(12);
      if (v4) u32(static_cast<std::uint32_t>(id >> 32));
      u32(static_cast<std::uint32_t>(id));
      u32(n.creation);
      break;
    }
    case K::fun: {
      const std::size_t n = ta::bytes_size(t);
      room(std::max<std::size_t>(n, 16));
      bytes_of(t, n);
      break;
    }
    }
  }
};

} // namespace

void encode(const term& t, std::string& out, const local_node& local, bool with_version) {
  encoder e{out, local};
  if (with_version) {
    e.room(1);
    e.u8(etf_tag::version);
  }
  e.encode(t);
  e.finish();
}

} // namespace otter::dist
