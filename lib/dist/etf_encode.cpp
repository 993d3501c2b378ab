// Encoding otter::term in the external term format.
//
// One pass over the term, writing into a buffer on the stack that is appended
// to the output string whenever it fills up and at the end; long byte runs
// (binaries, big atoms) go straight to the string. The write position is
// passed along in a register (`q`): a member would be reloaded after every
// byte stored, since a char store may alias anything.
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

char* put_u16(char* q, std::uint16_t v) {
  q[0] = static_cast<char>(v >> 8);
  q[1] = static_cast<char>(v);
  return q + 2;
}

char* put_u32(char* q, std::uint32_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  std::memcpy(q, &v, 4);
  return q + 4;
}

// SMALL_INTEGER, INTEGER or SMALL_BIG: at most 11 bytes.
char* put_integer(char* q, std::int64_t v) {
  if (v >= 0 && v <= 255) {
    q[0] = static_cast<char>(tag::small_integer);
    q[1] = static_cast<char>(v);
    return q + 2;
  }
  if (v >= INT32_MIN && v <= INT32_MAX) {
    q[0] = static_cast<char>(tag::integer);
    return put_u32(q + 1, static_cast<std::uint32_t>(v));
  }
  std::uint64_t m = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  std::size_t n = 0;
  while (m) {
    q[3 + n++] = static_cast<char>(m & 0xff);
    m >>= 8;
  }
  q[0] = static_cast<char>(tag::small_big);
  q[1] = static_cast<char>(n);
  q[2] = v < 0 ? 1 : 0;
  return q + 3 + n;
}

struct encoder {
  std::string& s;
  const local_node& local;
  char buf[1024]; // not cleared: only bytes written are flushed

  encoder(std::string& out, const local_node& l) : s(out), local(l) {}

  // Byte runs longer than this go straight to the string.
  static constexpr std::size_t long_run = 256;

  // At least `n` (a few hundred at most) bytes writable at q.
  char* room(char* q, std::size_t n) {
    return static_cast<std::size_t>(buf + sizeof buf - q) >= n ? q : flush(q);
  }
  [[gnu::noinline]] char* flush(char* q) {
    s.append(buf, static_cast<std::size_t>(q - buf));
    return buf;
  }
  // `n` bytes of `d`, any length.
  char* bytes(char* q, const char* d, std::size_t n) {
    if (n <= long_run) {
      q = room(q, n);
      if (n) std::memcpy(q, d, n);
      return q + n;
    }
    q = flush(q);
    s.append(d, n);
    return q;
  }
  // The bytes of an atom, a binary or a fun: an inline one as one 16-byte copy
  // (the bytes past its end are written over next or never flushed).
  char* bytes_of(char* q, const term& t, std::size_t n) {
    if (ta::bytes_inline(t)) {
      q = room(q, 16);
      std::memcpy(q, ta::bytes_data(t), 16);
      return q + n;
    }
    return bytes(q, ta::bytes_data(t), n);
  }

  // SMALL_ATOM_UTF8 or ATOM_UTF8 header; room for 3 bytes was made.
  static char* atom_header(char* q, std::size_t n) {
    if (n <= 255) {
      q[0] = static_cast<char>(tag::small_atom_utf8);
      q[1] = static_cast<char>(n);
      return q + 2;
    }
    q[0] = static_cast<char>(tag::atom_utf8);
    return put_u16(q + 1, static_cast<std::uint16_t>(n));
  }
  char* atom(char* q, std::string_view name) {
    q = room(q, 3);
    return bytes(atom_header(q, name.size()), name.data(), name.size());
  }
  char* atom(char* q, const term& t) {
    const std::size_t n = ta::bytes_size(t);
    q = room(q, 3);
    return bytes_of(atom_header(q, n), t, n);
  }

  char* list(char* q, const term& t) {
    const auto e = ta::seq(t);
    const term& tail = ta::list_tail(t);
    // Integers only, all of them 0..255, and a proper list: STRING_EXT.
    bool ints = true, bytes = tail.is_nil() && e.size() <= 65535;
    for (const term& x : e) {
      if (x.type() != K::integer) {
        ints = bytes = false;
        break;
      }
      const std::int64_t v = ta::int_value(x);
      bytes = bytes && v >= 0 && v <= 255;
    }
    if (bytes) {
      q = room(q, 3);
      q[0] = static_cast<char>(tag::string);
      q = put_u16(q + 1, static_cast<std::uint16_t>(e.size()));
      for (std::size_t i = 0; i < e.size();) {
        q = room(q, 64);
        const std::size_t k = std::min<std::size_t>(64, e.size() - i);
        for (std::size_t j = 0; j < k; ++j) q[j] = static_cast<char>(ta::int_value(e[i + j]));
        q += k;
        i += k;
      }
      return q;
    }
    q = room(q, 5);
    q[0] = static_cast<char>(tag::list);
    q = put_u32(q + 1, static_cast<std::uint32_t>(e.size()));
    if (ints) {
      for (const term& x : e) q = put_integer(room(q, 11), ta::int_value(x));
    } else {
      for (const term& x : e) q = item(q, x);
    }
    return encode(q, tail);
  }

  // An element of a container: integers and atoms, the usual leaves, are
  // tested for here, which predicts better than one shared switch.
  [[gnu::always_inline]] char* item(char* q, const term& x) {
    if (x.type() == K::integer) return put_integer(room(q, 11), ta::int_value(x));
    if (x.type() == K::atom) return atom(q, x);
    return encode(q, x);
  }

  char* pid_parts(char* q, std::string_view node, std::uint32_t id, std::uint32_t serial, std::uint32_t creation) {
    q = room(q, 1);
    *q++ = static_cast<char>(tag::new_pid);
    q = room(atom(q, node), 12);
    return put_u32(put_u32(put_u32(q, id), serial), creation);
  }

  char* encode(char* q, const term& t) {
    switch (t.type()) {
    case K::integer: return put_integer(room(q, 11), ta::int_value(t));
    case K::big_integer: {
      const auto m = t.big_magnitude();
      q = room(q, 6);
      if (m.size() <= 255) {
        q[0] = static_cast<char>(tag::small_big);
        q[1] = static_cast<char>(m.size());
        q += 2;
      } else {
        q[0] = static_cast<char>(tag::large_big);
        q = put_u32(q + 1, static_cast<std::uint32_t>(m.size()));
      }
      *q++ = t.big_negative() ? 1 : 0;
      return bytes(q, reinterpret_cast<const char*>(m.data()), m.size());
    }
    case K::floating: {
      q = room(q, 9);
      const std::uint64_t b = ta::raw_bits(t);
      q[0] = static_cast<char>(tag::new_float);
      return put_u32(put_u32(q + 1, static_cast<std::uint32_t>(b >> 32)), static_cast<std::uint32_t>(b));
    }
    case K::atom: return atom(q, t);
    case K::binary: {
      const std::size_t n = ta::bytes_size(t);
      q = room(q, 5);
      q[0] = static_cast<char>(tag::binary);
      return bytes_of(put_u32(q + 1, static_cast<std::uint32_t>(n)), t, n);
    }
    case K::bitstring: {
      const std::size_t n = ta::bytes_size(t);
      q = room(q, 6);
      q[0] = static_cast<char>(tag::bit_binary);
      q = put_u32(q + 1, static_cast<std::uint32_t>(n));
      *q++ = static_cast<char>(t.bit_size() - (n - 1) * 8);
      return bytes_of(q, t, n);
    }
    case K::nil:
      q = room(q, 1);
      *q = static_cast<char>(tag::nil);
      return q + 1;
    case K::list: return list(q, t);
    case K::tuple: {
      const auto e = ta::seq(t);
      q = room(q, 5);
      if (e.size() <= 255) {
        q[0] = static_cast<char>(tag::small_tuple);
        q[1] = static_cast<char>(e.size());
        q += 2;
      } else {
        q[0] = static_cast<char>(tag::large_tuple);
        q = put_u32(q + 1, static_cast<std::uint32_t>(e.size()));
      }
      for (const term& x : e) q = item(q, x);
      return q;
    }
    case K::map: {
      const auto e = ta::map_entries(t);
      q = room(q, 5);
      q[0] = static_cast<char>(tag::map);
      q = put_u32(q + 1, static_cast<std::uint32_t>(e.size()));
      for (const auto& [k, v] : e) q = item(item(q, k), v);
      return q;
    }
    case K::pid: {
      const pid pd = t.as_pid();
      if (pd.is_remote()) {
        const auto r = remote_parts(pd);
        const node_entry& n = node_at(r.node);
        return pid_parts(q, n.name, r.id, r.serial, n.creation);
      }
      const auto l = local_pid_parts(pd);
      return pid_parts(q, local.name, l.id, l.serial, local.creation);
    }
    case K::reference: {
      const term_ref& r = t.as_ref();
      const node_entry& n = node_at(r.node);
      q = room(q, 3);
      q[0] = static_cast<char>(tag::newer_reference);
      q = put_u16(q + 1, r.len);
      q = room(atom(q, n.name), 4 + 4 * 5);
      q = put_u32(q, n.creation);
      for (std::size_t i = 0; i < r.len; ++i) q = put_u32(q, r.id[i]);
      return q;
    }
    case K::port: {
      const node_entry& n = node_at(t.port_node());
      const std::uint64_t id = t.port_id();
      const bool v4 = t.port_is_v4() || id > 0xffffffffu;
      q = room(q, 1);
      *q++ = static_cast<char>(v4 ? tag::v4_port : tag::new_port);
      q = room(atom(q, n.name), 12);
      if (v4) q = put_u32(q, static_cast<std::uint32_t>(id >> 32));
      return put_u32(put_u32(q, static_cast<std::uint32_t>(id)), n.creation);
    }
    case K::fun: return bytes_of(q, t, ta::bytes_size(t));
    }
    return q;
  }
};

} // namespace

void encode(const term& t, std::string& out, const local_node& local, bool with_version) {
  encoder e(out, local);
  char* q = e.buf;
  if (with_version) *q++ = static_cast<char>(etf_tag::version);
  e.flush(e.encode(q, t));
}

} // namespace otter::dist
