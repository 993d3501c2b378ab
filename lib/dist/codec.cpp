// The built-in codecs that are not templates: std::string and otter::exit_reason.
#include <otter/dist/codec.hpp>

#include <memory>

#include "../exit_reason_access.hpp"

namespace otter {

bool codec<std::string>::from_term(const term& t, std::string& out) {
  if (t.is_binary()) {
    out = std::string(t.binary_bytes());
    return true;
  }
  if (!t.is_proper_list()) return false;
  // A charlist: Unicode code points, written out as UTF-8.
  std::string s;
  s.reserve(t.size());
  for (const term& e : t.elements()) {
    const auto c = e.to_int64();
    if (!c || *c < 0 || *c > 0x10ffff || (*c >= 0xd800 && *c <= 0xdfff)) return false;
    const auto cp = static_cast<std::uint32_t>(*c);
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xc0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xe0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      s += static_cast<char>(0xf0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  out = std::move(s);
  return true;
}

term codec<exit_reason>::to_term(const exit_reason& r) {
  using K = exit_reason::kind;
  switch (r.get_kind()) {
  case K::normal: return term::atom("normal");
  case K::kill: return term::atom("kill");
  case K::killed: return term::atom("killed");
  case K::shutdown:
    if (const void* v = otter::detail::exit_reason_access::value(r)) return *static_cast<const term*>(v);
    if (r.detail().empty()) return term::atom("shutdown");
    return term::tuple({term::atom("shutdown"), term::atom(r.detail())});
  case K::noproc: return term::atom("noproc");
  case K::noconnection: return term::atom("noconnection");
  case K::timeout: return term::atom("timeout");
  case K::custom:
    if (const void* v = otter::detail::exit_reason_access::value(r)) return *static_cast<const term*>(v);
    return term::atom(r.detail());
  case K::error: return term::tuple({term::atom(r.error_type()), term::binary(r.detail())});
  }
  return term::atom("normal");
}

bool codec<exit_reason>::from_term(const term& t, exit_reason& out) {
  if (t.is_atom()) {
    const std::string_view a = t.atom_name();
    if (a == "normal") out = exit_reason::normal();
    else if (a == "kill") out = exit_reason::kill();
    else if (a == "killed") out = exit_reason::killed();
    else if (a == "shutdown") out = exit_reason::shutdown();
    else if (a == "noproc") out = exit_reason::noproc();
    else if (a == "noconnection") out = exit_reason::noconnection();
    else if (a == "timeout") out = exit_reason::timeout();
    else out = exit_reason::custom(std::string(a));
    return true;
  }
  if (t.is_tuple(2) && t[0].is_atom("shutdown")) { // an orderly stop, whatever its detail
    if (t[1].is_atom())
      out = exit_reason::shutdown(std::string(t[1].atom_name()));
    else
      out = otter::detail::exit_reason_access::with_value(exit_reason::kind::shutdown, to_string(t[1]),
                                                          std::make_shared<const term>(t));
    return true;
  }
  if (t.is_tuple(2) && t[0].is_atom() && t[1].is_binary()) {
    out = exit_reason::error(std::string(t[0].atom_name()), std::string(t[1].binary_bytes()));
    return true;
  }
  // Any other reason an Erlang process gives ({badarg, Stack}, {shutdown, {a, 1}}...):
  // printed as Erlang prints it, and kept, so that it goes on unchanged.
  out = otter::detail::exit_reason_access::with_value(exit_reason::kind::custom, to_string(t),
                                                    std::make_shared<const term>(t));
  return true;
}

} // namespace otter
