// to_string(term): Erlang's syntax for a term.
#include <otter/dist/term.hpp>

#include <charconv>
#include <cstdio>
#include <ostream>

namespace otter {

namespace {

bool plain_atom(std::string_view s) {
  if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '@'))
      return false;
  static constexpr std::string_view reserved[] = {
      "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor", "case", "catch", "cond",
      "div", "end", "fun", "if", "let", "maybe", "not", "of", "or", "orelse", "receive", "rem", "try", "when", "xor"};
  for (auto r : reserved)
    if (s == r) return false;
  return true;
}

void put_atom(std::string& out, std::string_view s) {
  if (plain_atom(s)) {
    out += s;
    return;
  }
  out += '\'';
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
}

void put_uint(std::string& out, unsigned long long v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void put_double(std::string& out, double d) {
  // The shortest digits that read back as d, in Erlang's shape: always a '.' (1.0, 1.0e10).
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  std::string s(buf, r.ptr);
  const auto e = s.find('e');
  std::string mant = s.substr(0, e), exp = e == std::string::npos ? "" : s.substr(e + 1);
  if (mant.find('.') == std::string::npos) mant += ".0";
  out += mant;
  if (!exp.empty()) {
    out += 'e';
    std::size_t i = 0;
    if (exp[0] == '+') i = 1;
    else if (exp[0] == '-') out += '-', i = 1;
    while (i + 1 < exp.size() && exp[i] == '0') ++i;
    out += exp.substr(i);
  }
}

void put_big(std::string& out, const term& t) {
  // Decimal by repeated division of the magnitude by 10^9.
  auto m = t.big_magnitude();
  std::vector<std::uint32_t> limbs((m.size() + 3) / 4, 0);
  for (std::size_t i = 0; i < m.size(); ++i) limbs[i / 4] |= std::uint32_t{m[i]} << (8 * (i % 4));
  std::vector<std::uint32_t> parts;
  while (!limbs.empty()) {
    std::uint64_t rem = 0;
    for (std::size_t i = limbs.size(); i-- > 0;) {
      const std::uint64_t cur = (rem << 32) | limbs[i];
      limbs[i] = static_cast<std::uint32_t>(cur / 1000000000u);
      rem = cur % 1000000000u;
    }
    parts.push_back(static_cast<std::uint32_t>(rem));
    while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  }
  if (t.big_negative()) out += '-';
  put_uint(out, parts.back());
  for (std::size_t i = parts.size() - 1; i-- > 0;) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%09u", parts[i]);
    out += buf;
  }
}

void put_binary(std::string& out, const term& t) {
  const std::string_view b = t.binary_bytes();
  const std::size_t bits = t.bit_size();
  const std::size_t whole = bits / 8;
  out += "<<";
  bool printable = whole > 0 && whole == b.size();
  for (std::size_t i = 0; printable && i < whole; ++i)
    printable = static_cast<unsigned char>(b[i]) >= 0x20 && static_cast<unsigned char>(b[i]) < 0x7f;
  if (printable) {
    out += '"';
    for (char c : b) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  } else {
    for (std::size_t i = 0; i < whole; ++i) {
      if (i) out += ',';
      put_uint(out, static_cast<unsigned char>(b[i]));
    }
    if (bits % 8) {
      if (whole) out += ',';
      put_uint(out, static_cast<unsigned char>(b[whole]) >> (8 - bits % 8));
      out += ':';
      put_uint(out, bits % 8);
    }
  }
  out += ">>";
}

void put(std::string& out, const term& t);

void put_seq(std::string& out, std::span<const term> e) {
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (i) out += ',';
    put(out, e[i]);
  }
}

void put(std::string& out, const term& t) {
  using K = term::kind;
  switch (t.type()) {
  case K::integer: {
    const std::int64_t v = *t.to_int64();
    if (v < 0) out += '-';
    put_uint(out, v < 0 ? 0ull - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v));
    break;
  }
  case K::big_integer: put_big(out, t); break;
  case K::floating: put_double(out, t.as_double()); break;
  case K::atom: put_atom(out, t.atom_name()); break;
  case K::binary:
  case K::bitstring: put_binary(out, t); break;
  case K::nil: out += "[]"; break;
  case K::list:
    out += '[';
    put_seq(out, t.elements());
    if (!t.tail().is_nil()) {
      out += '|';
      put(out, t.tail());
    }
    out += ']';
    break;
  case K::tuple:
    out += '{';
    put_seq(out, t.elements());
    out += '}';
    break;
  case K::map: {
    out += "#{";
    bool first = true;
    for (const auto& [k, v] : t.map_entries()) {
      if (!first) out += ',';
      first = false;
      put(out, k);
      out += " => ";
      put(out, v);
    }
    out += '}';
    break;
  }
  case K::pid: out += to_string(t.as_pid()); break;
  case K::reference: {
    const term_ref& r = t.as_ref();
    out += "#Ref<";
    put_uint(out, r.node);
    for (int i = r.len; i-- > 0;) {
      out += '.';
      put_uint(out, r.id[i]);
    }
    out += '>';
    break;
  }
  case K::port:
    out += "#Port<";
    put_uint(out, t.port_node());
    out += '.';
    put_uint(out, t.port_id());
    out += '>';
    break;
  case K::fun:
    out += "#Fun<";
    put_uint(out, t.fun_node());
    out += '.';
    put_uint(out, t.fun_encoding().size());
    out += '>';
    break;
  }
}

} // namespace

std::string to_string(const term& t) {
  std::string out;
  put(out, t);
  return out;
}

std::ostream& operator<<(std::ostream& os, const term& t) { return os << to_string(t); }

} // namespace otter
