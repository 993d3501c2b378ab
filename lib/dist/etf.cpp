#include "etf.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include <otter/dist/node_table.hpp>

#include "term_access.hpp"

namespace otter::dist {

namespace {

enum tag : std::uint8_t {
  version_tag = 131,
  new_float = 70,
  bit_binary = 77,
  compressed = 80,
  atom_cache_ref = 82,
  new_pid = 88,
  new_port = 89,
  newer_reference = 90,
  small_integer = 97,
  integer_tag = 98,
  float_tag = 99,
  atom_latin1 = 100,
  reference_old = 101,
  port_old = 102,
  pid_old = 103,
  small_tuple = 104,
  large_tuple = 105,
  nil_tag = 106,
  string_tag = 107,
  list_tag = 108,
  binary_tag = 109,
  small_big = 110,
  large_big = 111,
  new_fun = 112,
  export_tag = 113,
  new_reference = 114,
  small_atom_latin1 = 115,
  map_tag = 116,
  fun_old = 117,
  atom_utf8 = 118,
  small_atom_utf8 = 119,
  v4_port = 120,
  local_tag = 121,
};

// ---- decoding ---------------------------------------------------------------

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint64_t be64(const std::uint8_t* p) { return (std::uint64_t{be32(p)} << 32) | be32(p + 4); }

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

  bool fail(std::string msg) {
    if (error.empty()) error = std::move(msg);
    return false;
  }
  bool fail_at(const char* what, std::size_t where) { return fail(std::string(what) + " at byte " + std::to_string(where)); }
  [[gnu::noinline]] bool truncated() { return fail("truncated at byte " + std::to_string(static_cast<std::size_t>(end - begin))); }
  bool need(std::size_t n) { return left() >= n || truncated(); }
  [[gnu::noinline]] bool too_many() { return fail_at("too many elements", at()); }
  bool count(std::size_t n) {
    if (n > lim.max_elements || elements > lim.max_elements - n) return too_many();
    elements += n;
    return true;
  }
  bool charge(std::size_t n) {
    if (n > lim.max_bytes || bytes > lim.max_bytes - n) return fail_at("too many bytes", at());
    bytes += n;
    return true;
  }

  // An atom's text, UTF-8: a view into the input, or (Latin-1 atoms) into `tmp`.
  bool atom_text(std::string& tmp, std::string_view& name) {
    if (!need(1)) return false;
    const std::size_t start = at();
    const std::uint8_t t = *p++;
    std::size_t n;
    bool latin1;
    switch (t) {
    case small_atom_utf8: latin1 = false; if (!need(1)) return false; n = *p++; break;
    case atom_utf8: latin1 = false; if (!need(2)) return false; n = be16(p); p += 2; break;
    case small_atom_latin1: latin1 = true; if (!need(1)) return false; n = *p++; break;
    case atom_latin1: latin1 = true; if (!need(2)) return false; n = be16(p); p += 2; break;
    case atom_cache_ref: return fail_at("atom cache reference (tag 82) outside a distribution header", start);
    default: return fail_at(("expected an atom, found tag " + std::to_string(t)).c_str(), start);
    }
    if (!need(n)) return false;
    if (latin1) {
      if (n > 255) return fail_at("atom longer than 255 characters", start);
      bool ascii = true;
      for (std::size_t i = 0; i < n; ++i) ascii = ascii && p[i] < 0x80;
      if (ascii) {
        name = {reinterpret_cast<const char*>(p), n};
      } else {
        tmp.clear();
        for (std::size_t i = 0; i < n; ++i) {
          if (p[i] < 0x80) {
            tmp += static_cast<char>(p[i]);
          } else {
            tmp += static_cast<char>(0xc0 | (p[i] >> 6));
            tmp += static_cast<char>(0x80 | (p[i] & 0x3f));
          }
        }
        name = tmp;
      }
    } else {
      std::size_t chars = 0;
      if (!utf8_chars(p, n, chars)) return fail_at("atom is not valid UTF-8", start);
      if (chars > 255) return fail_at("atom longer than 255 characters", start);
      name = {reinterpret_cast<const char*>(p), n};
    }
    p += n;
    return true;
  }

  // The node index for (name, creation): the local one, or interned.
  bool node_index(std::string_view name, std::uint32_t creation, std::uint16_t& idx, bool& is_local) {
    is_local = creation == local.creation && name == local.name;
    if (is_local) {
      idx = local.index;
      return true;
    }
    idx = intern_node(name, creation);
    if (idx == 0xffff) return fail_at("node table full", at());
    return true;
  }

  bool decode_pid(std::uint8_t t, term& out) {
    std::string tmp;
    std::string_view name;
    if (!atom_text(tmp, name)) return false;
    const std::size_t cl = t == new_pid ? 4 : 1;
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
      out = term(local_pid_from(id, serial));
      return true;
    }
    const pid r = make_remote_pid(idx, id, serial);
    if (!r) return fail_at("remote pid table full", at());
    out = term(r);
    return true;
  }

  bool decode_port(std::uint8_t t, term& out) {
    std::string tmp;
    std::string_view name;
    if (!atom_text(tmp, name)) return false;
    const std::size_t il = t == v4_port ? 8 : 4, cl = t == port_old ? 1 : 4;
    if (!need(il + cl)) return false;
    const std::uint64_t id = il == 8 ? be64(p) : be32(p);
    const std::uint32_t creation = cl == 4 ? be32(p + il) : p[il];
    p += il + cl;
    std::uint16_t idx;
    bool is_local;
    if (!node_index(name, creation, idx, is_local)) return false;
    out = term::port(idx, id, t == v4_port);
    return true;
  }

  bool decode_ref(std::uint8_t t, term& out) {
    const std::size_t start = at() - 1;
    std::size_t len = 1;
    if (t != reference_old) {
      if (!need(2)) return false;
      len = be16(p);
      p += 2;
      if (len == 0 || len > 5) return fail_at("reference with a length other than 1 to 5", start);
    }
    std::string tmp;
    std::string_view name;
    if (!atom_text(tmp, name)) return false;
    term_ref r;
    r.len = static_cast<std::uint8_t>(len);
    std::uint32_t creation;
    if (t == reference_old) {
      if (!need(5)) return false;
      r.id[0] = be32(p);
      creation = p[4];
      p += 5;
    } else {
      const std::size_t cl = t == newer_reference ? 4 : 1;
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

  bool decode_big(std::size_t n, term& out) {
    if (!need(1 + n)) return false;
    const std::uint8_t sign = *p;
    if (sign > 1) return fail_at("big integer sign other than 0 or 1", at());
    if (!charge(n)) return false;
    out = term::integer(sign == 1, std::span<const std::uint8_t>(p + 1, n));
    p += 1 + n;
    return true;
  }

  bool skip_small_int() {
    if (!need(1)) return false;
    if (*p == small_integer) return need(2) && (p += 2, true);
    if (*p == integer_tag) return need(5) && (p += 5, true);
    return fail_at("expected an integer", at());
  }

  // A fun or an export is kept as its encoding: check it, then copy its bytes.
  bool decode_fun(std::uint8_t t, term& out, std::size_t depth) {
    const std::uint8_t* start = p - 1;
    std::string tmp;
    std::string_view name;
    std::uint16_t node = 0;
    if (t == export_tag) {
      if (!atom_text(tmp, name) || !atom_text(tmp, name)) return false;
      if (!need(2)) return false;
      if (p[0] != small_integer) return fail_at("export arity is not a small integer", at());
      p += 2;
    } else {
      if (!need(4 + 1 + 16 + 4 + 4)) return false;
      const std::uint32_t nfree = be32(p + 25);
      p += 29;
      if (nfree > 255) return fail_at("fun with more than 255 free variables", at() - 4);
      if (nfree > left()) return fail("truncated at byte " + std::to_string(static_cast<std::size_t>(end - begin)));
      if (!atom_text(tmp, name) || !skip_small_int() || !skip_small_int()) return false;
      term pidt;
      if (!need(1)) return false;
      const std::size_t pid_at = at();
      if (*p != new_pid && *p != pid_old) return fail_at("fun creator is not a pid", pid_at);
      if (!decode(pidt, depth + 1)) return false;
      node = node_index_of(pidt.as_pid(), local.index);
      for (std::uint32_t i = 0; i < nfree; ++i) {
        term v;
        if (!decode(v, depth + 1)) return false;
      }
    }
    const auto n = static_cast<std::size_t>(p - start);
    if (!charge(n)) return false;
    out = term::fun(std::string_view(reinterpret_cast<const char*>(start), n), node);
    return true;
  }

  bool decode(term& out, std::size_t depth) {
    if (depth > lim.max_depth) return fail_at("too deep", at());
    if (!need(1)) return false;
    if (!count(1)) return false;
    const std::size_t start = at();
    const std::uint8_t t = *p;
    switch (t) {
    case small_integer:
      if (!need(2)) return false;
      out = term(static_cast<int>(p[1]));
      p += 2;
      return true;
    case integer_tag:
      if (!need(5)) return false;
      out = term(static_cast<int>(static_cast<std::int32_t>(be32(p + 1))));
      p += 5;
      return true;
    case small_big:
      if (!need(2)) return false;
      p += 2;
      return decode_big(p[-1], out);
    case large_big: {
      if (!need(5)) return false;
      const std::size_t n = be32(p + 1);
      p += 5;
      return decode_big(n, out);
    }
    case new_float: {
      if (!need(9)) return false;
      const std::uint64_t bits = be64(p + 1);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      if (!std::isfinite(d)) return fail_at("float is not finite", start);
      out = term(d);
      p += 9;
      return true;
    }
    case float_tag: {
      if (!need(32)) return false;
      char buf[32];
      std::memcpy(buf, p + 1, 31);
      buf[31] = 0;
      char* e = nullptr;
      const double d = std::strtod(buf, &e);
      if (e == buf || !std::isfinite(d)) return fail_at("bad float text", start);
      out = term(d);
      p += 32;
      return true;
    }
    case small_atom_utf8:
    case atom_utf8:
    case small_atom_latin1:
    case atom_latin1: {
      std::string tmp;
      std::string_view name;
      if (!atom_text(tmp, name)) return false;
      if (!charge(name.size())) return false;
      out = term::atom(name);
      return true;
    }
    case small_tuple:
    case large_tuple: {
      std::size_t n;
      if (t == small_tuple) {
        if (!need(2)) return false;
        n = p[1];
        p += 2;
      } else {
        if (!need(5)) return false;
        n = be32(p + 1);
        p += 5;
      }
      if (n == 0) {
        out = term::tuple(std::vector<term>{});
        return true;
      }
      if (n > left()) return fail_at("tuple arity beyond the input", start);
      if (!count(n)) return false;
      term* e = nullptr;
      term tup = term_access::make_tuple(n, &e);
      for (std::size_t i = 0; i < n; ++i)
        if (!decode(e[i], depth + 1)) return false;
      out = std::move(tup);
      return true;
    }
    case nil_tag:
      ++p;
      out = term();
      return true;
    case string_tag: {
      if (!need(3)) return false;
      const std::size_t n = be16(p + 1);
      p += 3;
      if (!need(n)) return false;
      if (n == 0) {
        out = term();
        return true;
      }
      if (!count(n)) return false;
      term* e = nullptr;
      term* tl = nullptr;
      term l = term_access::make_list(n, &e, &tl);
      for (std::size_t i = 0; i < n; ++i) e[i] = term(static_cast<int>(p[i]));
      p += n;
      out = std::move(l);
      return true;
    }
    case list_tag: {
      if (!need(5)) return false;
      const std::size_t n = be32(p + 1);
      p += 5;
      if (n >= left()) return fail_at("list length beyond the input", start);
      if (n == 0) return decode(out, depth + 1);
      if (!count(n)) return false;
      term* e = nullptr;
      term* tl = nullptr;
      term l = term_access::make_list(n, &e, &tl);
      for (std::size_t i = 0; i < n; ++i)
        if (!decode(e[i], depth + 1)) return false;
      if (!decode(*tl, depth + 1)) return false;
      term_access::normalize_list(l);
      out = std::move(l);
      return true;
    }
    case binary_tag: {
      if (!need(5)) return false;
      const std::size_t n = be32(p + 1);
      p += 5;
      if (!need(n) || !charge(n)) return false;
      char* d = term_access::make_bytes(out, term::kind::binary, n, 0);
      if (n) std::memcpy(d, p, n);
      p += n;
      return true;
    }
    case bit_binary: {
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
    case map_tag: {
      if (!need(5)) return false;
      const std::size_t n = be32(p + 1);
      p += 5;
      if (n == 0) {
        out = term::map({});
        return true;
      }
      if (n > left() / 2) return fail_at("map size beyond the input", start);
      if (!count(2 * n)) return false;
      std::pair<term, term>* e = nullptr;
      term m = term_access::make_map(n, &e);
      for (std::size_t i = 0; i < n; ++i)
        if (!decode(e[i].first, depth + 1) || !decode(e[i].second, depth + 1)) return false;
      if (!term_access::finish_map(m)) return fail_at("duplicate map key", start);
      out = std::move(m);
      return true;
    }
    case new_pid:
    case pid_old: ++p; return decode_pid(t, out);
    case new_port:
    case v4_port:
    case port_old: ++p; return decode_port(t, out);
    case newer_reference:
    case new_reference:
    case reference_old: ++p; return decode_ref(t, out);
    case new_fun:
    case export_tag: ++p; return decode_fun(t, out, depth);
    case compressed: return fail_at("compressed term (tag 80) not supported: otter has no zlib", start);
    case atom_cache_ref: return fail_at("atom cache reference (tag 82) outside a distribution header", start);
    case fun_old: return fail_at("old fun (tag 117) not supported", start);
    case local_tag: return fail_at("local term (tag 121) not supported", start);
    case version_tag: return fail_at("version byte 131 inside a term", start);
    default: return fail_at(("unknown tag " + std::to_string(t)).c_str(), start);
    }
  }
};

// ---- encoding ---------------------------------------------------------------

struct encoder {
  std::string& out;
  const local_node& local;

  void u8(std::uint8_t v) { out.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) {
    const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
    out.append(b, 2);
  }
  void u32(std::uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
    out.append(b, 4);
  }
  void tag_u32(std::uint8_t t, std::uint32_t v) {
    const char b[5] = {static_cast<char>(t), static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
    out.append(b, 5);
  }

  void atom(std::string_view name) {
    if (name.size() <= 255) {
      const char b[2] = {static_cast<char>(small_atom_utf8), static_cast<char>(name.size())};
      out.append(b, 2);
    } else {
      u8(atom_utf8);
      u16(static_cast<std::uint16_t>(name.size()));
    }
    out.append(name);
  }

  void integer(std::int64_t v) {
    if (v >= 0 && v <= 255) {
      const char b[2] = {static_cast<char>(small_integer), static_cast<char>(v)};
      out.append(b, 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      tag_u32(integer_tag, static_cast<std::uint32_t>(v));
    } else {
      std::uint64_t m = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
      char b[11];
      std::size_t n = 0;
      while (m) {
        b[3 + n++] = static_cast<char>(m & 0xff);
        m >>= 8;
      }
      b[0] = static_cast<char>(small_big);
      b[1] = static_cast<char>(n);
      b[2] = v < 0 ? 1 : 0;
      out.append(b, 3 + n);
    }
  }

  static bool string_like(const term& t) {
    if (!t.tail().is_nil()) return false;
    const auto e = t.elements();
    if (e.size() > 65535) return false;
    for (const term& x : e) {
      if (x.type() != term::kind::integer) return false;
      const std::int64_t v = *x.to_int64();
      if (v < 0 || v > 255) return false;
    }
    return true;
  }

  void node(std::uint16_t idx) { atom(node_at(idx).name); }

  void encode(const term& t) {
    using K = term::kind;
    switch (t.type()) {
    case K::integer: integer(*t.to_int64()); break;
    case K::big_integer: {
      const auto m = t.big_magnitude();
      if (m.size() <= 255) {
        u8(small_big);
        u8(static_cast<std::uint8_t>(m.size()));
      } else {
        tag_u32(large_big, static_cast<std::uint32_t>(m.size()));
      }
      u8(t.big_negative() ? 1 : 0);
      out.append(reinterpret_cast<const char*>(m.data()), m.size());
      break;
    }
    case K::floating: {
      std::uint64_t b;
      const double d = t.as_double();
      std::memcpy(&b, &d, sizeof b);
      u8(new_float);
      u32(static_cast<std::uint32_t>(b >> 32));
      u32(static_cast<std::uint32_t>(b));
      break;
    }
    case K::atom: atom(t.atom_name()); break;
    case K::binary: {
      const auto b = t.binary_bytes();
      tag_u32(binary_tag, static_cast<std::uint32_t>(b.size()));
      out.append(b);
      break;
    }
    case K::bitstring: {
      const auto b = t.binary_bytes();
      tag_u32(bit_binary, static_cast<std::uint32_t>(b.size()));
      u8(static_cast<std::uint8_t>(t.bit_size() - (b.size() - 1) * 8));
      out.append(b);
      break;
    }
    case K::nil: u8(nil_tag); break;
    case K::list: {
      const auto e = t.elements();
      if (string_like(t)) {
        u8(string_tag);
        u16(static_cast<std::uint16_t>(e.size()));
        const std::size_t at = out.size();
        out.resize(at + e.size());
        for (std::size_t i = 0; i < e.size(); ++i) out[at + i] = static_cast<char>(*e[i].to_int64());
        break;
      }
      tag_u32(list_tag, static_cast<std::uint32_t>(e.size()));
      for (const term& x : e) encode(x);
      encode(t.tail());
      break;
    }
    case K::tuple: {
      const auto e = t.elements();
      if (e.size() <= 255) {
        const char b[2] = {static_cast<char>(small_tuple), static_cast<char>(e.size())};
        out.append(b, 2);
      } else {
        tag_u32(large_tuple, static_cast<std::uint32_t>(e.size()));
      }
      for (const term& x : e) encode(x);
      break;
    }
    case K::map: {
      const auto e = t.map_entries();
      tag_u32(map_tag, static_cast<std::uint32_t>(e.size()));
      for (const auto& [k, v] : e) {
        encode(k);
        encode(v);
      }
      break;
    }
    case K::pid: {
      const pid p = t.as_pid();
      u8(new_pid);
      if (p.is_remote()) {
        const auto r = remote_parts(p);
        const node_entry& n = node_at(r.node);
        atom(n.name);
        u32(r.id);
        u32(r.serial);
        u32(n.creation);
      } else {
        const auto l = local_pid_parts(p);
        atom(local.name);
        u32(l.id);
        u32(l.serial);
        u32(local.creation);
      }
      break;
    }
    case K::reference: {
      const term_ref& r = t.as_ref();
      const node_entry& n = node_at(r.node);
      u8(newer_reference);
      u16(r.len);
      atom(n.name);
      u32(n.creation);
      for (std::size_t i = 0; i < r.len; ++i) u32(r.id[i]);
      break;
    }
    case K::port: {
      const node_entry& n = node_at(t.port_node());
      const std::uint64_t id = t.port_id();
      const bool v4 = t.port_is_v4() || id > 0xffffffffu;
      u8(v4 ? v4_port : new_port);
      atom(n.name);
      if (v4) u32(static_cast<std::uint32_t>(id >> 32));
      u32(static_cast<std::uint32_t>(id));
      u32(n.creation);
      break;
    }
    case K::fun: out.append(t.fun_encoding()); break;
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
    if (*d.p != version_tag) return {false, 0, "no version byte 131 at byte 0 (found " + std::to_string(*d.p) + ")"};
    ++d.p;
  }
  term t;
  if (!d.decode(t, 0)) return {false, 0, std::move(d.error)};
  out = std::move(t);
  return {true, d.at(), std::string()};
}

void encode(const term& t, std::string& out, const local_node& local, bool with_version) {
  encoder e{out, local};
  if (with_version) e.u8(version_tag);
  e.encode(t);
}

} // namespace otter::dist
