// Decoding the external term format into otter::term.
//
// Every term is built in place: a container is allocated once, sized from its
// count (checked against the bytes left first), and each element is decoded
// straight into its slot. Integers and short atoms, what messages are mostly
// made of, take a path without a call.
#include "etf.hpp"

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include <otter/dist/node_table.hpp>

#include "etf_tags.hpp"
#include "term_access.hpp"

namespace otter::dist {

namespace {

namespace tag = etf_tag;
using K = term::kind;

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
std::uint32_t be32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  return v;
}
std::uint64_t be64(const std::uint8_t* p) { return (std::uint64_t{be32(p)} << 32) | be32(p + 4); }

bool ascii(const std::uint8_t* s, std::size_t n) {
  unsigned acc = 0;
  for (std::size_t i = 0; i < n; ++i) acc |= s[i];
  return acc < 0x80;
}

// Valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF); counts characters.
bool utf8_chars(const std::uint8_t* s, std::size_t n, std::size_t& chars) {
  chars = 0;
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t c = s[i];
    ++chars;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if ((c & 0xe0) == 0xc0) len = 2, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0) len = 3, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0) len = 4, cp = c & 0x07;
    else return false;
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

struct decoder {
  const std::uint8_t* begin;
  const std::uint8_t* p;
  const std::uint8_t* end;
  const local_node& local;
  const decode_limits& lim;
  std::size_t elements = 0;
  std::size_t bytes = 0;
  std::string error;

  std::size_t at() const { return static_cast<std::size_t>(p - begin); }
  std::size_t left() const { return static_cast<std::size_t>(end - p); }

  // ---- failures (out of line: the paths that succeed stay short) ----

  [[gnu::noinline]] bool fail(std::string msg) {
    if (error.empty()) error = std::move(msg);
    return false;
  }
  [[gnu::noinline]] bool fail_at(const char* what, std::size_t where) {
    return fail(std::string(what) + " at byte " + std::to_string(where));
  }
  [[gnu::noinline]] bool truncated() {
    return fail("truncated at byte " + std::to_string(static_cast<std::size_t>(end - begin)));
  }
  [[gnu::noinline]] bool too_deep() { return fail_at("too deep", at()); }
  [[gnu::noinline]] bool unknown_tag(std::uint8_t t, std::size_t where) {
    return fail_at(("unknown tag " + std::to_string(t)).c_str(), where);
  }

  bool need(std::size_t n) { return left() >= n || truncated(); }
  // `n` more terms built.
  bool count(std::size_t n) {
    if (n > lim.max_elements || elements > lim.max_elements - n) return fail_at("too many elements", at());
    elements += n;
    return true;
  }
  // `n` more bytes of binaries, atoms and big integers.
  bool charge(std::size_t n) {
    if (n > lim.max_bytes || bytes > lim.max_bytes - n) return fail_at("too many bytes", at());
    bytes += n;
    return true;
  }
  // A container at `depth` holds elements at depth + 1.
  bool room_below(std::size_t depth) { return depth < lim.max_depth || too_deep(); }

  // ---- atoms ----

  // An atom's text, UTF-8: a view into the input, or (Latin-1 atoms) into `buf`.
  bool atom_text(char (&buf)[512], std::string_view& name) {
    if (!need(1)) return false;
    const std::size_t start = at();
    const std::uint8_t t = *p++;
    std::size_t n;
    bool latin1;
    switch (t) {
    case tag::small_atom_utf8: latin1 = false; if (!need(1)) return false; n = *p++; break;
    case tag::atom_utf8: latin1 = false; if (!need(2)) return false; n = be16(p); p += 2; break;
    case tag::small_atom_latin1: latin1 = true; if (!need(1)) return false; n = *p++; break;
    case tag::atom_latin1: latin1 = true; if (!need(2)) return false; n = be16(p); p += 2; break;
    case tag::atom_cache_ref: return fail_at("atom cache reference (tag 82) outside a distribution header", start);
    default: return fail_at(("expected an atom, found tag " + std::to_string(t)).c_str(), start);
    }
    if (!need(n)) return false;
    if (ascii(p, n)) {
      // Every byte is a character, in Latin-1 and in UTF-8 alike.
      if (n > 255) return fail_at("atom longer than 255 characters", start);
      name = {reinterpret_cast<const char*>(p), n};
    } else if (latin1) {
      if (n > 255) return fail_at("atom longer than 255 characters", start);
      std::size_t k = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (p[i] < 0x80) {
          buf[k++] = static_cast<char>(p[i]);
        } else {
          buf[k++] = static_cast<char>(0xc0 | (p[i] >> 6));
          buf[k++] = static_cast<char>(0x80 | (p[i] & 0x3f));
        }
      }
      name = {buf, k};
    } else {
      std::size_t chars = 0;
      if (!utf8_chars(p, n, chars)) return fail_at("atom is not valid UTF-8", start);
      if (chars > 255) return fail_at("atom longer than 255 characters", start);
      name = {reinterpret_cast<const char*>(p), n};
    }
    p += n;
    return true;
  }

  bool decode_atom(term& out) {
    // SMALL_ATOM_UTF8 in ASCII, what OTP sends for nearly every atom.
    if (left() >= 2 && *p == tag::small_atom_utf8 && left() - 2 >= p[1] && ascii(p + 2, p[1])) {
      const std::size_t n = p[1];
      if (!charge(n)) return false;
      char* d = term_access::fill_bytes(out, K::atom, n);
      if (n) std::memcpy(d, p + 2, n);
      p += 2 + n;
      return true;
    }
    char buf[512];
    std::string_view name;
    if (!atom_text(buf, name)) return false;
    if (!charge(name.size())) return false;
    char* d = term_access::fill_bytes(out, K::atom, name.size());
    if (!name.empty()) std::memcpy(d, name.data(), name.size());
    return true;
  }

  // ---- pids, ports, references ----

  // The node index for (name, creation): the local one, or interned.
  bool node_index(std::string_view name, std::uint32_t creation, std::uint16_t& idx, bool& is_local) {
    is_local = creation == local.creation && name == local.name;
    if (is_local) {
      idx = local.index;
      return true;
    }
    // Most remote pids and references in a stream name the same node (the
    // peer's, in every SEND_SENDER): remember the last one, and skip the
    // node table's lock. Entries are never removed, so an index stays right.
    struct last_node {
      std::string name;
      std::uint32_t creation = 0;
      std::uint16_t index = 0xffff;
    };
    thread_local last_node last;
    if (last.index != 0xffff && last.creation == creation && last.name == name) {
      idx = last.index;
      return true;
    }
    idx = intern_node(name, creation);
    if (idx == 0xffff) return fail_at("node table full", at());
    last.name.assign(name);
    last.creation = creation;
    last.index = idx;
    return true;
  }

  bool decode_pid(std::uint8_t t, term& out) {
    char buf[512];
    std::string_view name;
    if (!atom_text(buf, name)) return false;
    const std::size_t cl = t == tag::new_pid ? 4 : 1;
    if (!need(8 + cl)) return false;
    const std::uint32_t id = be32(p), serial = be32(p + 4);
    const std::uint32_t creation = cl == 4 ? be32(p + 8) : p[8];
    p += 8 + cl;
    std::uint16_t idx;
    bool is_local;
    if (!node_index(name, creation, idx, is_local)) return false;
    // A local ID whose low byte is 0xfe cannot be a local pid (that byte marks
    // remote ones): keep it as a pid of the local node's entry, which encodes the same.
    if (is_local && (id & 0xff) != 0xfe) {
      term_access::set_pid(out, local_pid_from(id, serial));
      return true;
    }
    const pid r = make_remote_pid(idx, id, serial);
    if (!r) return fail_at("remote pid table full", at());
    term_access::set_pid(out, r);
    return true;
  }

  bool decode_port(std::uint8_t t, term& out) {
    char buf[512];
    std::string_view name;
    if (!atom_text(buf, name)) return false;
    const std::size_t il = t == tag::v4_port ? 8 : 4, cl = t == tag::port_old ? 1 : 4;
    if (!need(il + cl)) return false;
    const std::uint64_t id = il == 8 ? be64(p) : be32(p);
    const std::uint32_t creation = cl == 4 ? be32(p + il) : p[il];
    p += il + cl;
    std::uint16_t idx;
    bool is_local;
    if (!node_index(name, creation, idx, is_local)) return false;
    out = term::port(idx, id, t == tag::v4_port);
    return true;
  }

  bool decode_ref(std::uint8_t t, term& out) {
    const std::size_t start = at() - 1;
    std::size_t len = 1;
    if (t != tag::reference_old) {
      if (!need(2)) return false;
      len = be16(p);
      p += 2;
      if (len == 0 || len > 5) return fail_at("reference with a length other than 1 to 5", start);
    }
    char buf[512];
    std::string_view name;
    if (!atom_text(buf, name)) return false;
    term_ref r;
    r.len = static_cast<std::uint8_t>(len);
    std::uint32_t creation;
    if (t == tag::reference_old) {
      if (!need(5)) return false;
      r.id[0] = be32(p);
      creation = p[4];
      p += 5;
    } else {
      const std::size_t cl = t == tag::newer_reference ? 4 : 1;
      if (!need(cl + 4 * len)) return false;
      creation = cl == 4 ? be32(p) : p[0];
      p += cl;
      for (std::size_t i = 0; i < len; ++i, p += 4) r.id[i] = be32(p);
    }
    bool is_local;
    if (!node_index(name, creation, r.node, is_local)) return false;
    out = term::reference(r);
    return true;
  }

  // ---- numbers ----

  bool decode_big(std::size_t n, term& out) {
    if (!need(1 + n)) return false;
    const std::uint8_t sign = *p;
    if (sign > 1) return fail_at("big integer sign other than 0 or 1", at());
    if (!charge(n)) return false;
    out = term::integer(sign == 1, std::span<const std::uint8_t>(p + 1, n));
    p += 1 + n;
    return true;
  }

  bool decode_float_text(term& out) {
    const std::size_t start = at();
    if (!need(32)) return false;
    char buf[32];
    std::memcpy(buf, p + 1, 31);
    buf[31] = 0;
    char* e = nullptr;
    const double d = std::strtod(buf, &e);
    if (e == buf || !std::isfinite(d)) return fail_at("bad float text", start);
    term_access::set_float(out, d);
    p += 32;
    return true;
  }

  // ---- funs ----

  bool skip_small_int() {
    if (!need(1)) return false;
    if (*p == tag::small_integer) return need(2) && (p += 2, true);
    if (*p == tag::integer) return need(5) && (p += 5, true);
    return fail_at("expected an integer", at());
  }

  // A fun or an export is kept as its encoding: check it, then copy its bytes.
  bool decode_fun(std::uint8_t t, term& out, std::size_t depth) {
    const std::uint8_t* start = p - 1;
    char buf[512];
    std::string_view name;
    std::uint16_t node = 0;
    if (t == tag::export_fun) {
      if (!atom_text(buf, name) || !atom_text(buf, name)) return false;
      if (!need(2)) return false;
      if (p[0] != tag::small_integer) return fail_at("export arity is not a small integer", at());
      p += 2;
    } else {
      if (!need(4 + 1 + 16 + 4 + 4)) return false;
      const std::uint32_t nfree = be32(p + 25);
      p += 29;
      if (nfree > 255) return fail_at("fun with more than 255 free variables", at() - 4);
      if (nfree > left()) return truncated();
      if (!atom_text(buf, name) || !skip_small_int() || !skip_small_int()) return false;
      if (!need(1)) return false;
      if (*p != tag::new_pid && *p != tag::pid_old) return fail_at("fun creator is not a pid", at());
      if (!room_below(depth) || !count(1 + nfree)) return false;
      term creator;
      if (!decode(creator, depth + 1)) return false;
      node = node_index_of(creator.as_pid(), local.index);
      for (std::uint32_t i = 0; i < nfree; ++i) {
        term v;
        if (!decode(v, depth + 1)) return false;
      }
    }
    const auto n = static_cast<std::size_t>(p - start);
    if (!charge(n)) return false;
    char* d = term_access::fill_bytes(out, K::fun, n);
    std::memcpy(d, start, n);
    term_access::set_fun_node(out, node);
    return true;
  }

  // ---- containers ----

  // The `n` elements of the tuple or list `owner`, made in order in `e`.
  // Integers take a path without a call.
  bool elements_into(term& owner, term* e, std::size_t n, std::size_t depth) {
    // Locals: the stores into the elements could otherwise alias p and end.
    const std::uint8_t* q = p;
    const std::uint8_t* const stop = end;
    bool flat = true;
    for (std::size_t i = 0; i < n; ++i) {
      const auto rest = static_cast<std::size_t>(stop - q);
      if (rest >= 5 && *q == tag::integer) {
        new (e + i) term(static_cast<long long>(static_cast<std::int32_t>(be32(q + 1))));
        q += 5;
        continue;
      }
      if (rest >= 2 && *q == tag::small_integer) {
        new (e + i) term(static_cast<long long>(q[1]));
        q += 2;
        continue;
      }
      new (e + i) term();
      term_access::made(owner, i + 1);
      p = q;
      if (!decode(e[i], depth)) return false;
      q = p;
      flat = flat && !term_access::has_heap(e[i]);
    }
    p = q;
    term_access::made(owner, n);
    if (flat) term_access::set_flat(owner);
    return true;
  }

  bool decode_tuple(std::size_t n, std::size_t start, term& out, std::size_t depth) {
    if (n == 0) {
      term_access::set_empty_tuple(out);
      return true;
    }
    if (n > left()) return fail_at("tuple arity beyond the input", start);
    if (!room_below(depth) || !count(n)) return false;
    term* e = term_access::fill_tuple(out, n);
    return elements_into(out, e, n, depth + 1);
  }

  bool decode_list(term& out, std::size_t depth) {
    const std::size_t start = at();
    if (!need(5)) return false;
    const std::size_t n = be32(p + 1);
    p += 5;
    // At least one byte for each element and one for the tail.
    if (n >= left()) return fail_at("list length beyond the input", start);
    if (!room_below(depth)) return false;
    if (n == 0) return decode(out, depth + 1); // just its tail
    if (!count(n + 1)) return false;
    term* tl = nullptr;
    term* e = term_access::fill_list(out, n, &tl);
    if (!elements_into(out, e, n, depth + 1) || !decode(*tl, depth + 1)) return false;
    if (tl->type() == K::list) term_access::normalize_list(out);
    return true;
  }

  bool decode_string(term& out) {
    if (!need(3)) return false;
    const std::size_t n = be16(p + 1);
    p += 3;
    if (!need(n)) return false;
    if (n == 0) return true; // out is already []
    if (!count(n)) return false;
    term* tl = nullptr;
    term* e = term_access::fill_list(out, n, &tl);
    const std::uint8_t* q = p;
    for (std::size_t i = 0; i < n; ++i) new (e + i) term(static_cast<long long>(q[i]));
    p = q + n;
    term_access::made(out, n);
    term_access::set_flat(out);
    return true;
  }

  bool decode_map(term& out, std::size_t depth) {
    const std::size_t start = at();
    if (!need(5)) return false;
    const std::size_t n = be32(p + 1);
    p += 5;
    if (n == 0) {
      term_access::set_empty_map(out);
      return true;
    }
    if (n > left() / 2) return fail_at("map size beyond the input", start);
    if (!room_below(depth) || !count(2 * n)) return false;
    auto* e = term_access::fill_map(out, n);
    for (std::size_t i = 0; i < n; ++i) {
      new (e + i) std::pair<term, term>();
      term_access::made(out, i + 1);
      if (!decode(e[i].first, depth + 1) || !decode(e[i].second, depth + 1)) return false;
    }
    if (!term_access::finish_map(out)) return fail_at("duplicate map key", start);
    return true;
  }

  bool decode_binary(term& out) {
    if (!need(5)) return false;
    const std::size_t n = be32(p + 1);
    p += 5;
    if (!need(n) || !charge(n)) return false;
    char* d = term_access::fill_bytes(out, K::binary, n);
    if (n) std::memcpy(d, p, n);
    p += n;
    return true;
  }

  bool decode_bit_binary(term& out) {
    const std::size_t start = at();
    if (!need(6)) return false;
    const std::size_t n = be32(p + 1);
    const std::uint8_t bits = p[5];
    p += 6;
    if (bits == 0 || bits > 8) return fail_at("bit binary with 0 or more than 8 bits in its last byte", start);
    if (n == 0) return fail_at("empty bit binary", start);
    if (!need(n) || !charge(n)) return false;
    out = term::bitstring(std::string_view(reinterpret_cast<const char*>(p), n), (n - 1) * 8 + bits);
    p += n;
    return true;
  }

  // One term into `out`, which is `[]` (a fresh slot); it was counted by whoever
  // made the slot. On failure `out` may be partly filled, but is a valid term.
  bool decode(term& out, std::size_t depth) {
    if (depth > lim.max_depth) return too_deep();
    if (p == end) return truncated();
    const std::size_t start = at();
    const std::uint8_t t = *p;
    switch (t) {
    case tag::small_integer:
      if (!need(2)) return false;
      term_access::set_integer(out, p[1]);
      p += 2;
      return true;
    case tag::integer:
      if (!need(5)) return false;
      term_access::set_integer(out, static_cast<std::int32_t>(be32(p + 1)));
      p += 5;
      return true;
    case tag::small_big:
      if (!need(2)) return false;
      p += 2;
      return decode_big(p[-1], out);
    case tag::large_big: {
      if (!need(5)) return false;
      const std::size_t n = be32(p + 1);
      p += 5;
      return decode_big(n, out);
    }
    case tag::new_float: {
      if (!need(9)) return false;
      const std::uint64_t bits = be64(p + 1);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      if (!std::isfinite(d)) return fail_at("float is not finite", start);
      term_access::set_float(out, d);
      p += 9;
      return true;
    }
    case tag::float_text: return decode_float_text(out);
    case tag::small_atom_utf8:
    case tag::atom_utf8:
    case tag::small_atom_latin1:
    case tag::atom_latin1: return decode_atom(out);
    case tag::small_tuple:
      if (!need(2)) return false;
      p += 2;
      return decode_tuple(p[-1], start, out, depth);
    case tag::large_tuple: {
      if (!need(5)) return false;
      const std::size_t n = be32(p + 1);
      p += 5;
      return decode_tuple(n, start, out, depth);
    }
    case tag::nil: ++p; return true; // out is already []
    case tag::string: return decode_string(out);
    case tag::list: return decode_list(out, depth);
    case tag::binary: return decode_binary(out);
    case tag::bit_binary: return decode_bit_binary(out);
    case tag::map: return decode_map(out, depth);
    case tag::new_pid:
    case tag::pid_old: ++p; return decode_pid(t, out);
    case tag::new_port:
    case tag::v4_port:
    case tag::port_old: ++p; return decode_port(t, out);
    case tag::newer_reference:
    case tag::new_reference:
    case tag::reference_old: ++p; return decode_ref(t, out);
    case tag::new_fun:
    case tag::export_fun: ++p; return decode_fun(t, out, depth);
    case tag::compressed: return fail_at("compressed term (tag 80) not supported: otter has no zlib", start);
    case tag::atom_cache_ref: return fail_at("atom cache reference (tag 82) outside a distribution header", start);
    case tag::fun_old: return fail_at("old fun (tag 117) not supported", start);
    case tag::local: return fail_at("local term (tag 121) not supported", start);
    case tag::version: return fail_at("version byte 131 inside a term", start);
    default: return unknown_tag(t, start);
    }
  }
};

} // namespace

decode_result decode(std::span<const std::byte> in, term& out, const local_node& local, bool expect_version,
                     const decode_limits& limits) {
  const auto* b = reinterpret_cast<const std::uint8_t*>(in.data());
  decoder d{b, b, b + in.size(), local, limits, 0, 0, std::string()};
  if (expect_version) {
    if (!d.need(1)) return {false, 0, d.error};
    if (*d.p != etf_tag::version)
      return {false, 0, "no version byte 131 at byte 0 (found " + std::to_string(*d.p) + ")"};
    ++d.p;
  }
  if (!d.count(1)) return {false, 0, std::move(d.error)};
  if (out.is_nil()) {
    // Straight into `out` (moving a term just built would stall on its fresh
    // bytes); a failure leaves it [] again. Made anew first: a moved-from []
    // keeps stale bits that the in-place writers do not all overwrite.
    std::destroy_at(&out);
    new (&out) term();
    if (!d.decode(out, 0)) {
      out = term();
      return {false, 0, std::move(d.error)};
    }
    return {true, d.at(), std::string()};
  }
  term t;
  if (!d.decode(t, 0)) return {false, 0, std::move(d.error)};
  out = std::move(t);
  return {true, d.at(), std::string()};
}

} // namespace otter::dist
