#include "../lib/dist/etf.hpp"

#include <initializer_list>

#include <catch2/catch.hpp>

#include <otter/dist/node_table.hpp>

using otter::term;
using namespace otter::dist;

namespace {

const local_node nonode{"nonode@nohost", 0, 0};

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s += static_cast<char>(x);
  return s;
}

std::string enc(const term& t, const local_node& l = nonode) {
  std::string out;
  encode(t, out, l);
  return out;
}

decode_result dec(std::string_view s, term& out, const local_node& l = nonode, const decode_limits& lim = {}) {
  return decode(std::as_bytes(std::span(s.data(), s.size())), out, l, true, lim);
}

term dec_ok(std::string_view s, const local_node& l = nonode) {
  term t;
  const auto r = dec(s, t, l);
  INFO(r.error);
  REQUIRE(r.ok);
  CHECK(r.consumed == s.size());
  return t;
}

std::string dec_err(std::string_view s, const decode_limits& lim = {}) {
  term t = term::atom("unchanged");
  const auto r = dec(s, t, nonode, lim);
  CHECK(!r.ok);
  CHECK(t.is_atom("unchanged"));
  return r.error;
}

// The node name "a@b" as SMALL_ATOM_UTF8.
#define NODE_AB 119, 3, 'a', '@', 'b'

} // namespace

TEST_CASE("etf - small integers use SMALL_INTEGER_EXT", "[etf]") {
  CHECK(enc(term(0)) == bytes({131, 97, 0}));
  CHECK(enc(term(255)) == bytes({131, 97, 255}));
  CHECK(dec_ok(bytes({131, 97, 200})) == term(200));
}

TEST_CASE("etf - 32-bit integers use INTEGER_EXT", "[etf]") {
  CHECK(enc(term(256)) == bytes({131, 98, 0, 0, 1, 0}));
  CHECK(enc(term(-1)) == bytes({131, 98, 255, 255, 255, 255}));
  CHECK(dec_ok(bytes({131, 98, 128, 0, 0, 0})) == term(INT32_MIN));
}

TEST_CASE("etf - larger integers use SMALL_BIG_EXT, little-endian digits", "[etf]") {
  CHECK(enc(term(4294967296LL)) == bytes({131, 110, 5, 0, 0, 0, 0, 0, 1}));
  CHECK(enc(term(-2147483649LL)) == bytes({131, 110, 4, 1, 1, 0, 0, 128}));
  CHECK(enc(term(INT64_MIN)) == bytes({131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128}));
  const term u(18446744073709551615ull);
  CHECK(enc(u) == bytes({131, 110, 8, 0, 255, 255, 255, 255, 255, 255, 255, 255}));
  CHECK(dec_ok(enc(u)) == u);
}

TEST_CASE("etf - a non-canonical big integer decodes to its value", "[etf]") {
  CHECK(dec_ok(bytes({131, 110, 0, 0})) == term(0));
  CHECK(dec_ok(bytes({131, 110, 3, 1, 5, 0, 0})) == term(-5));
  CHECK(dec_ok(bytes({131, 111, 0, 0, 0, 2, 0, 1, 1})) == term(257));
}

TEST_CASE("etf - LARGE_BIG_EXT holds integers of more than 255 bytes", "[etf]") {
  std::string b = bytes({131, 111, 0, 0, 1, 0, 0});
  b += std::string(255, '\0');
  b += '\x01';
  const term t = dec_ok(b);
  CHECK(t.type() == term::kind::big_integer);
  CHECK(t.big_magnitude().size() == 256);
  CHECK(enc(t) == b);
}

TEST_CASE("etf - floats use NEW_FLOAT_EXT", "[etf]") {
  CHECK(enc(term(1.5)) == bytes({131, 70, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0}));
  CHECK(dec_ok(bytes({131, 70, 0xc0, 0, 0, 0, 0, 0, 0, 0})) == term(-2.0));
}

TEST_CASE("etf - old FLOAT_EXT text decodes", "[etf]") {
  std::string b = bytes({131, 99});
  std::string text = "1.50000000000000000000e+00";
  text.resize(31, '\0');
  CHECK(dec_ok(b + text) == term(1.5));
}

TEST_CASE("etf - atoms use SMALL_ATOM_UTF8_EXT", "[etf]") {
  CHECK(enc(term::atom("ok")) == bytes({131, 119, 2, 'o', 'k'}));
  CHECK(dec_ok(bytes({131, 119, 0})) == term::atom(""));
}

TEST_CASE("etf - atoms of more than 255 bytes use ATOM_UTF8_EXT", "[etf]") {
  std::string name;
  for (int i = 0; i < 130; ++i) name += "\xc3\xa9"; // 130 × é: 260 bytes, 130 characters
  const std::string e = enc(term::atom(name));
  CHECK(e.substr(0, 4) == bytes({131, 118, 1, 4}));
  CHECK(dec_ok(e) == term::atom(name));
}

TEST_CASE("etf - Latin-1 atoms decode to UTF-8", "[etf]") {
  CHECK(dec_ok(bytes({131, 100, 0, 2, 'h', 0xe9})) == term::atom("h\xc3\xa9"));
  CHECK(dec_ok(bytes({131, 115, 2, 'o', 'k'})) == term::atom("ok"));
}

TEST_CASE("etf - tuples use SMALL_TUPLE_EXT and LARGE_TUPLE_EXT", "[etf]") {
  CHECK(enc(term::tuple({term::atom("add"), 5})) == bytes({131, 104, 2, 119, 3, 'a', 'd', 'd', 97, 5}));
  CHECK(enc(term::tuple({})) == bytes({131, 104, 0}));
  std::vector<term> many(256, term(1));
  const std::string e = enc(term::tuple(many));
  CHECK(e.substr(0, 6) == bytes({131, 105, 0, 0, 1, 0}));
  CHECK(dec_ok(e) == term::tuple(many));
}

TEST_CASE("etf - nil is NIL_EXT", "[etf]") {
  CHECK(enc(term()) == bytes({131, 106}));
  CHECK(dec_ok(bytes({131, 106})).is_nil());
}

TEST_CASE("etf - lists of bytes use STRING_EXT and decode to lists of integers", "[etf]") {
  CHECK(enc(term::list({97, 98})) == bytes({131, 107, 0, 2, 97, 98}));
  const term t = dec_ok(bytes({131, 107, 0, 3, 1, 2, 3}));
  CHECK(t == term::list({1, 2, 3}));
  CHECK(t[2] == term(3));
  CHECK(dec_ok(bytes({131, 107, 0, 0})).is_nil());
}

TEST_CASE("etf - other lists use LIST_EXT with their tail", "[etf]") {
  CHECK(enc(term::list({term::atom("a")})) == bytes({131, 108, 0, 0, 0, 1, 119, 1, 'a', 106}));
  const term improper = term::list({1}, term(2));
  CHECK(enc(improper) == bytes({131, 108, 0, 0, 0, 1, 97, 1, 97, 2}));
  CHECK(dec_ok(enc(improper)) == improper);
  CHECK(enc(term::list({256})) == bytes({131, 108, 0, 0, 0, 1, 98, 0, 0, 1, 0, 106}));
}

TEST_CASE("etf - a list whose tail is a list decodes as one list", "[etf]") {
  // [1 | [2]] written as two LIST_EXTs.
  const term t = dec_ok(bytes({131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 106}));
  CHECK(t == term::list({1, 2}));
}

TEST_CASE("etf - binaries use BINARY_EXT", "[etf]") {
  CHECK(enc(term::binary("ab")) == bytes({131, 109, 0, 0, 0, 2, 'a', 'b'}));
  CHECK(dec_ok(bytes({131, 109, 0, 0, 0, 0})) == term::binary(""));
}

TEST_CASE("etf - bitstrings use BIT_BINARY_EXT", "[etf]") {
  const char raw[] = {1, 0x40};
  const term b = term::bitstring(std::string_view(raw, 2), 11);
  CHECK(enc(b) == bytes({131, 77, 0, 0, 0, 2, 3, 1, 0x40}));
  CHECK(dec_ok(enc(b)) == b);
  CHECK(dec_ok(bytes({131, 77, 0, 0, 0, 1, 8, 7})) == term::binary("\x07"));
}

TEST_CASE("etf - maps use MAP_EXT with keys in term order", "[etf]") {
  const term m = term::map({{term::atom("b"), 1}, {term::atom("a"), 2}});
  CHECK(enc(m) == bytes({131, 116, 0, 0, 0, 2, 119, 1, 'a', 97, 2, 119, 1, 'b', 97, 1}));
  CHECK(dec_ok(bytes({131, 116, 0, 0, 0, 2, 119, 1, 'b', 97, 1, 119, 1, 'a', 97, 2})) == m);
  CHECK(enc(term::map({})) == bytes({131, 116, 0, 0, 0, 0}));
}

TEST_CASE("etf - local pids use NEW_PID_EXT with the local name and creation", "[etf]") {
  const local_node me{"a@b", 9, intern_node("a@b", 9)};
  const otter::pid p = otter::pid::make(1, 2, 3);
  CHECK(enc(term(p), me) == bytes({131, 88, NODE_AB, 0, 0, 2, 1, 0, 0, 0, 3, 0, 0, 0, 9}));
  const term back = dec_ok(enc(term(p), me), me);
  CHECK(back.as_pid() == p);
  CHECK(!back.as_pid().is_remote());
}

TEST_CASE("etf - a pid of another node decodes remote and encodes back", "[etf]") {
  const std::string e = bytes({131, 88, NODE_AB, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0, 5});
  const term t = dec_ok(e);
  REQUIRE(t.is_pid());
  CHECK(t.as_pid().is_remote());
  const auto parts = remote_parts(t.as_pid());
  CHECK(node_at(parts.node).name == "a@b");
  CHECK(node_at(parts.node).creation == 5);
  CHECK(parts.id == 42);
  CHECK(enc(t) == e);
}

TEST_CASE("etf - a pid of the local name with another creation is remote", "[etf]") {
  const local_node me{"a@b", 9, intern_node("a@b", 9)};
  const term t = dec_ok(bytes({131, 88, NODE_AB, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0, 8}), me);
  CHECK(t.as_pid().is_remote());
}

TEST_CASE("etf - old PID_EXT decodes and encodes as NEW_PID_EXT", "[etf]") {
  const term t = dec_ok(bytes({131, 103, NODE_AB, 0, 0, 0, 42, 0, 0, 0, 1, 2}));
  CHECK(enc(t) == bytes({131, 88, NODE_AB, 0, 0, 0, 42, 0, 0, 0, 1, 0, 0, 0, 2}));
}

TEST_CASE("etf - references use NEWER_REFERENCE_EXT", "[etf]") {
  const std::string e = bytes({131, 90, 0, 3, NODE_AB, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3});
  const term t = dec_ok(e);
  REQUIRE(t.is_reference());
  CHECK(t.as_ref().len == 3);
  CHECK(t.as_ref().id[2] == 3);
  CHECK(node_at(t.as_ref().node).name == "a@b");
  CHECK(enc(t) == e);
}

TEST_CASE("etf - old reference tags decode", "[etf]") {
  const term n = dec_ok(bytes({131, 114, 0, 1, NODE_AB, 2, 0, 0, 0, 7}));
  CHECK(n.as_ref().len == 1);
  CHECK(n.as_ref().id[0] == 7);
  CHECK(node_at(n.as_ref().node).creation == 2);
  const term o = dec_ok(bytes({131, 101, NODE_AB, 0, 0, 0, 7, 2}));
  CHECK(o == n);
}

TEST_CASE("etf - a local ref goes out and comes back as the same ref", "[etf]") {
  const local_node me{"a@b", 9, intern_node("a@b", 9)};
  const otter::ref r = otter::ref::from_bits(0x1122334455667788ull);
  const term t = dec_ok(enc(term::from_ref(r, me.index), me), me);
  CHECK(term_ref_to_local(t.as_ref(), me.index) == r);
}

TEST_CASE("etf - ports use NEW_PORT_EXT or V4_PORT_EXT", "[etf]") {
  const std::string np = bytes({131, 89, NODE_AB, 0, 0, 0, 7, 0, 0, 0, 5});
  const term p = dec_ok(np);
  CHECK(p.type() == term::kind::port);
  CHECK(p.port_id() == 7);
  CHECK(enc(p) == np);
  const std::string v4 = bytes({131, 120, NODE_AB, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 5});
  CHECK(enc(dec_ok(v4)) == v4);
  CHECK(dec_ok(bytes({131, 102, NODE_AB, 0, 0, 0, 7, 5})) == p);
}

TEST_CASE("etf - exports round-trip byte for byte", "[etf]") {
  const std::string e = bytes({131, 113, 119, 5, 'l', 'i', 's', 't', 's', 119, 3, 'm', 'a', 'p', 97, 2});
  const term t = dec_ok(e);
  CHECK(t.type() == term::kind::fun);
  CHECK(enc(t) == e);
}

TEST_CASE("etf - funs round-trip byte for byte with their free variables", "[etf]") {
  std::string e = bytes({131, 112, 0, 0, 0, 0, 1});
  e += std::string(16, '\x11');                         // Uniq
  e += bytes({0, 0, 0, 3, 0, 0, 0, 1});                 // Index, NumFree
  e += bytes({119, 1, 'm', 97, 3, 98, 0, 0, 1, 0});     // Module, OldIndex, OldUniq
  e += bytes({88, NODE_AB, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5}); // Pid
  e += bytes({109, 0, 0, 0, 1, 'x'});                   // one free variable
  const term t = dec_ok(e);
  CHECK(t.type() == term::kind::fun);
  CHECK(node_at(t.fun_node()).name == "a@b");
  CHECK(enc(t) == e);
}

TEST_CASE("etf - decode reports the bytes it consumed and leaves the rest", "[etf]") {
  term t;
  const std::string s = bytes({131, 97, 1, 131, 97, 2});
  const auto r = dec(s, t);
  CHECK(r.ok);
  CHECK(r.consumed == 3);
  CHECK(t == term(1));
}

TEST_CASE("etf - decode without a version byte", "[etf]") {
  term t;
  const std::string s = bytes({97, 7});
  const auto r = decode(std::as_bytes(std::span(s.data(), s.size())), t, nonode, false);
  CHECK(r.ok);
  CHECK(t == term(7));
  std::string out;
  encode(term(7), out, nonode, false);
  CHECK(out == s);
}

TEST_CASE("etf - nested terms round-trip", "[etf]") {
  const term t = term::tuple(
      {term(otter::pid::make(0, 5, 1)), term::tuple({term::atom("add"), 5}),
       term::map({{term::binary("k"), term::list({term(1.5), term::atom("x")}, term::binary("t"))},
                  {term(3), term::tuple({})}}),
       term(-123456789012LL), term::list({1, 2, 300})});
  CHECK(dec_ok(enc(t)) == t);
}

// ---- malformed input --------------------------------------------------------

TEST_CASE("etf - empty input is truncated", "[etf]") { CHECK(dec_err("") == "truncated at byte 0"); }

TEST_CASE("etf - a missing version byte is refused", "[etf]") {
  CHECK(dec_err(bytes({97, 1})).find("no version byte") != std::string::npos);
}

TEST_CASE("etf - truncated input says where it ends", "[etf]") {
  CHECK(dec_err(bytes({131, 98, 0, 0})) == "truncated at byte 4");
  CHECK(dec_err(bytes({131, 109, 0, 0, 0, 9, 1, 2})) == "truncated at byte 8");
  CHECK(dec_err(bytes({131, 104, 2, 97, 1})) == "truncated at byte 5");
}

TEST_CASE("etf - unknown tags name the tag and its position", "[etf]") {
  CHECK(dec_err(bytes({131, 1})) == "unknown tag 1 at byte 1");
  CHECK(dec_err(bytes({131, 104, 1, 200})) == "unknown tag 200 at byte 3");
}

TEST_CASE("etf - compressed terms are refused clearly", "[etf]") {
  CHECK(dec_err(bytes({131, 80, 0, 0, 0, 1, 0x78})).find("compressed") != std::string::npos);
}

TEST_CASE("etf - atom cache references, old funs and local terms are refused", "[etf]") {
  CHECK(dec_err(bytes({131, 82, 0})).find("atom cache") != std::string::npos);
  CHECK(dec_err(bytes({131, 117, 0})).find("117") != std::string::npos);
  CHECK(dec_err(bytes({131, 121, 0})).find("121") != std::string::npos);
}

TEST_CASE("etf - a list claiming 2^32 elements fails fast", "[etf]") {
  CHECK(dec_err(bytes({131, 108, 255, 255, 255, 255, 97, 1, 106})).find("list length beyond the input") !=
        std::string::npos);
}

TEST_CASE("etf - huge tuple and map counts fail before allocating", "[etf]") {
  CHECK(dec_err(bytes({131, 105, 255, 255, 255, 255, 106})).find("tuple arity") != std::string::npos);
  CHECK(dec_err(bytes({131, 116, 128, 0, 0, 0, 106, 106})).find("map size") != std::string::npos);
  CHECK(dec_err(bytes({131, 111, 255, 255, 255, 255, 0})).find("truncated") != std::string::npos);
}

TEST_CASE("etf - nesting deeper than the limit is refused", "[etf]") {
  std::string s = bytes({131});
  for (int i = 0; i < 2000; ++i) s += bytes({108, 0, 0, 0, 1});
  CHECK(dec_err(s).find("too deep") != std::string::npos);
  std::string t = bytes({131});
  for (int i = 0; i < 100000; ++i) t += bytes({104, 1});
  t += bytes({106});
  CHECK(dec_err(t).find("too deep") != std::string::npos);
}

TEST_CASE("etf - the element and byte limits are enforced", "[etf]") {
  decode_limits few;
  few.max_elements = 3;
  CHECK(dec_err(bytes({131, 104, 4, 97, 1, 97, 2, 97, 3, 97, 4}), few).find("too many elements") != std::string::npos);
  decode_limits small;
  small.max_bytes = 2;
  CHECK(dec_err(bytes({131, 109, 0, 0, 0, 3, 1, 2, 3}), small).find("too many bytes") != std::string::npos);
}

TEST_CASE("etf - invalid atoms are refused", "[etf]") {
  CHECK(dec_err(bytes({131, 119, 1, 0xff})).find("UTF-8") != std::string::npos);
  CHECK(dec_err(bytes({131, 119, 2, 0xc0, 0x80})).find("UTF-8") != std::string::npos); // overlong
  CHECK(dec_err(bytes({131, 119, 3, 0xed, 0xa0, 0x80})).find("UTF-8") != std::string::npos); // surrogate
  std::string longer = bytes({131, 118, 1, 0});
  longer += std::string(256, 'a');
  CHECK(dec_err(longer).find("longer than 255") != std::string::npos);
}

TEST_CASE("etf - non-finite floats are refused", "[etf]") {
  CHECK(dec_err(bytes({131, 70, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0})).find("not finite") != std::string::npos);
  CHECK(dec_err(bytes({131, 70, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1})).find("not finite") != std::string::npos);
}

TEST_CASE("etf - a big integer sign other than 0 or 1 is refused", "[etf]") {
  CHECK(dec_err(bytes({131, 110, 1, 2, 5})).find("sign") != std::string::npos);
}

TEST_CASE("etf - bit binaries with 0 or more than 8 bits are refused", "[etf]") {
  CHECK(dec_err(bytes({131, 77, 0, 0, 0, 1, 0, 1})).find("bit binary") != std::string::npos);
  CHECK(dec_err(bytes({131, 77, 0, 0, 0, 1, 9, 1})).find("bit binary") != std::string::npos);
  CHECK(dec_err(bytes({131, 77, 0, 0, 0, 0, 3})).find("empty bit binary") != std::string::npos);
}

TEST_CASE("etf - duplicate map keys are refused", "[etf]") {
  CHECK(dec_err(bytes({131, 116, 0, 0, 0, 2, 97, 1, 97, 2, 97, 1, 97, 3})).find("duplicate map key") !=
        std::string::npos);
}

TEST_CASE("etf - references with more than 5 words are refused", "[etf]") {
  CHECK(dec_err(bytes({131, 90, 0, 6, NODE_AB, 0, 0, 0, 1})).find("reference") != std::string::npos);
  CHECK(dec_err(bytes({131, 90, 0, 0, NODE_AB, 0, 0, 0, 1})).find("reference") != std::string::npos);
}

TEST_CASE("etf - a pid whose node is not an atom is refused", "[etf]") {
  CHECK(dec_err(bytes({131, 88, 97, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1})).find("expected an atom") !=
        std::string::npos);
}

TEST_CASE("etf - a fun with a bad creator or too many free variables is refused", "[etf]") {
  std::string head = bytes({131, 112, 0, 0, 0, 0, 1});
  head += std::string(16, '\x11');
  std::string bad_pid = head + bytes({0, 0, 0, 3, 0, 0, 0, 0, 119, 1, 'm', 97, 3, 97, 4, 97, 1});
  CHECK(dec_err(bad_pid).find("not a pid") != std::string::npos);
  std::string many = head + bytes({0, 0, 0, 3, 0, 0, 1, 0});
  many += std::string(300, '\x6a');
  CHECK(dec_err(many).find("255 free") != std::string::npos);
}

// ---- the fast paths ---------------------------------------------------------

TEST_CASE("etf - lists of integers of every width round-trip with their tags", "[etf]") {
  // Bytes only: STRING_EXT. 256 needs INTEGER_EXT, 2^31 SMALL_BIG_EXT; an atom among them the general path.
  const term bytes_only = term::list({0, 1, 255});
  CHECK(enc(bytes_only) == bytes({131, 107, 0, 3, 0, 1, 255}));
  const term mixed = term::list({term(1), term(256), term(-1), term(2147483648LL), term(-2147483648LL)});
  CHECK(enc(mixed) == bytes({131, 108, 0, 0, 0, 5, 97, 1, 98, 0, 0, 1, 0, 98, 255, 255, 255, 255, 110, 4, 0, 0, 0, 0,
                             128, 98, 128, 0, 0, 0, 106}));
  CHECK(dec_ok(enc(mixed)) == mixed);
  const term with_atom = term::list({term(1000), term::atom("a"), term(1001)}, term(7));
  CHECK(dec_ok(enc(with_atom)) == with_atom);
  std::vector<term> many;
  for (int i = 0; i < 5000; ++i) many.emplace_back(i * 1000 - 2500001); // never 0..255: 5 bytes each
  const term long_list = term::list(std::move(many));
  CHECK(enc(long_list).size() == 1 + 5 + 5000 * 5 + 1);
  CHECK(dec_ok(enc(long_list)) == long_list);
}

TEST_CASE("etf - atoms and binaries of every short length round-trip byte for byte", "[etf]") {
  // Up to 16 bytes they live inside the term and are copied 16 bytes at a time.
  for (std::size_t n = 0; n <= 40; ++n) {
    const std::string text(n, static_cast<char>('a' + n % 26));
    const term t = term::tuple({term::atom(text), term::binary(text), term::bitstring(text + "z", n * 8 + 3)});
    std::string want = bytes({131, 104, 3, 119, static_cast<int>(n)});
    want += text;
    want += bytes({109, 0, 0, 0, static_cast<int>(n)});
    want += text;
    want += bytes({77, 0, 0, 0, static_cast<int>(n + 1), 3});
    want += text;
    want += static_cast<char>('z' & 0xe0);
    INFO(n);
    CHECK(enc(t) == want);
    CHECK(dec_ok(want) == t);
  }
}

TEST_CASE("etf - an encoding longer than the encoder's buffer comes out whole, after what out held", "[etf]") {
  std::vector<term> parts;
  for (int i = 0; i < 300; ++i)
    parts.push_back(term::tuple({term::atom("element"), term(i), term::binary(std::string(static_cast<std::size_t>(i), 'b'))}));
  const term t = term::list(std::move(parts));
  std::string out = "prefix";
  encode(t, out, nonode);
  REQUIRE(out.substr(0, 6) == "prefix");
  const std::string body = out.substr(6);
  CHECK(body == enc(t));
  CHECK(dec_ok(body) == t);
}

TEST_CASE("etf - a decode that fails inside containers frees what it made and leaves out unchanged", "[etf]") {
  // {<<20 bytes>>, [<<20 bytes>>, 1000 | 'bad tag'], ...}: heap parts made before the failure.
  std::string s = bytes({131, 104, 3, 109, 0, 0, 0, 20});
  s += std::string(20, 'x');
  s += bytes({108, 0, 0, 0, 2, 109, 0, 0, 0, 20});
  s += std::string(20, 'y');
  s += bytes({98, 0, 0, 3, 232, 200});
  CHECK(dec_err(s).find("unknown tag 200") != std::string::npos);
  std::string m = bytes({131, 116, 0, 0, 0, 2, 119, 1, 'a', 109, 0, 0, 0, 20});
  m += std::string(20, 'z');
  m += bytes({119, 1, 'b', 201});
  CHECK(dec_err(m).find("unknown tag 201") != std::string::npos);
}

TEST_CASE("etf - map keys out of term order are sorted on decode", "[etf]") {
  // #{b => 1, a => 2, 3 => c} as written out of order.
  const std::string s = bytes({131, 116, 0, 0, 0, 3, 119, 1, 'b', 97, 1, 119, 1, 'a', 97, 2, 97, 3, 119, 1, 'c'});
  const term m = dec_ok(s);
  CHECK(m == term::map({{term::atom("a"), 2}, {term::atom("b"), 1}, {term(3), term::atom("c")}}));
  CHECK(m.map_entries()[0].first == term(3));
}
