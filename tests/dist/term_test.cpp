#include <otter/dist/term.hpp>

#include <cstdlib>
#include <sstream>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <otter/dist/node_table.hpp>


namespace {
// "<N" + rest, built without operator+ on a literal (g++ 12 warns falsely on it).
std::string remote_text(unsigned n, const char* rest) {
  std::string s = "<";
  s += std::to_string(n);
  s += rest;
  return s;
}
} // namespace

using otter::term;

TEST_CASE("term - the default term is nil", "[term]") {
  const term t;
  CHECK(t.is_nil());
  CHECK(t.is_list());
  CHECK(t.type() == term::kind::nil);
  CHECK(t.size() == 0);
  CHECK(otter::to_string(t) == "[]");
}

TEST_CASE("term - a term is at most 24 bytes", "[term]") { STATIC_REQUIRE(sizeof(term) <= 24); }

TEST_CASE("term - integers within int64 are small, beyond are big", "[term]") {
  CHECK(term(42).to_int64() == 42);
  CHECK(term(-7L).type() == term::kind::integer);
  CHECK(term(INT64_MIN).to_int64() == INT64_MIN);
  const term big(18446744073709551615ull);
  CHECK(big.type() == term::kind::big_integer);
  CHECK(big.is_integer());
  CHECK(!big.to_int64());
  CHECK(big.to_uint64() == 18446744073709551615ull);
  CHECK(otter::to_string(big) == "18446744073709551615");
  CHECK(term(9223372036854775807ull).type() == term::kind::integer);
}

TEST_CASE("term - a big integer built from a small magnitude is a small integer", "[term]") {
  const std::uint8_t mag[] = {5, 0, 0, 0};
  CHECK(term::integer(true, mag) == term(-5));
  const std::uint8_t m2[] = {0, 0, 0, 0, 0, 0, 0, 0x80};
  CHECK(term::integer(true, m2) == term(INT64_MIN));
  CHECK(term::integer(false, m2).type() == term::kind::big_integer);
}

TEST_CASE("term - big integers print in decimal", "[term]") {
  std::uint8_t m[16] = {};
  m[15] = 1; // 2^120
  CHECK(otter::to_string(term::integer(true, m)) == "-1329227995784915872903807060280344576");
}

TEST_CASE("term - atoms keep their names, short and long", "[term]") {
  const term a = term::atom("ok");
  CHECK(a.is_atom());
  CHECK(a.is_atom("ok"));
  CHECK(!a.is_atom("error"));
  CHECK(a.atom_name() == "ok");
  const std::string long_name(200, 'x');
  const term b = term::atom(long_name);
  CHECK(b.atom_name() == long_name);
  CHECK(b == term::atom(long_name));
  CHECK(b != a);
  CHECK(term::atom("") .atom_name().empty());
}

TEST_CASE("term - atoms print quoted when Erlang needs quotes", "[term]") {
  CHECK(otter::to_string(term::atom("ok")) == "ok");
  CHECK(otter::to_string(term::atom("hello world")) == "'hello world'");
  CHECK(otter::to_string(term::atom("Foo")) == "'Foo'");
  CHECK(otter::to_string(term::atom("")) == "''");
  CHECK(otter::to_string(term::atom("and")) == "'and'");
  CHECK(otter::to_string(term::atom("it's")) == "'it\\'s'");
  CHECK(otter::to_string(term::atom("node@host")) == "node@host");
}

TEST_CASE("term - tuples give their arity and elements", "[term]") {
  const term t = term::tuple({term::atom("add"), 5});
  CHECK(t.is_tuple());
  CHECK(t.is_tuple(2));
  CHECK(!t.is_tuple(3));
  CHECK(t.size() == 2);
  CHECK(t[0].is_atom("add"));
  CHECK(t[1].to_int64() == 5);
  CHECK(t.elements().size() == 2);
  CHECK(otter::to_string(t) == "{add,5}");
  CHECK(otter::to_string(term::tuple({})) == "{}");
  CHECK(term::tuple({}).is_tuple(0));
}

TEST_CASE("term - lists of integers print as lists, never as strings", "[term]") {
  const term l = term::list({97, 98});
  CHECK(l.is_list());
  CHECK(l.is_proper_list());
  CHECK(l.size() == 2);
  CHECK(otter::to_string(l) == "[97,98]");
}

TEST_CASE("term - an improper list keeps its tail", "[term]") {
  const term l = term::list({1, 2}, term(3));
  CHECK(!l.is_proper_list());
  CHECK(l.size() == 2);
  CHECK(l.tail() == term(3));
  CHECK(otter::to_string(l) == "[1,2|3]");
}

TEST_CASE("term - a list with a list tail is one list", "[term]") {
  const term a = term::list({1}, term::list({2, 3}));
  CHECK(a == term::list({1, 2, 3}));
  CHECK(a.size() == 3);
  CHECK(term::list(std::vector<term>{}, term(7)) == term(7));
  CHECK(term::list({}).is_nil());
}

TEST_CASE("term - binaries hold bytes and print like Erlang", "[term]") {
  CHECK(otter::to_string(term::binary("ab")) == "<<\"ab\">>");
  const char raw[] = {1, 2, 3};
  const term b = term::binary(std::string_view(raw, 3));
  CHECK(otter::to_string(b) == "<<1,2,3>>");
  CHECK(b.size() == 3);
  CHECK(b.binary_bytes() == std::string_view(raw, 3));
  CHECK(otter::to_string(term::binary("")) == "<<>>");
  const std::string kib(1024, 'z');
  CHECK(term::binary(kib).binary_bytes() == kib);
  const std::byte bytes[] = {std::byte{0x41}};
  CHECK(term::binary(std::span<const std::byte>(bytes)) == term::binary("A"));
}

TEST_CASE("term - a bitstring keeps its bit length and zeroes unused bits", "[term]") {
  const char raw[] = {1, static_cast<char>(0x5f)};
  const term b = term::bitstring(std::string_view(raw, 2), 11);
  CHECK(b.type() == term::kind::bitstring);
  CHECK(b.bit_size() == 11);
  CHECK(static_cast<unsigned char>(b.binary_bytes()[1]) == 0x40);
  CHECK(otter::to_string(b) == "<<1,2:3>>");
  CHECK(term::bitstring("ab", 16) == term::binary("ab"));
}

TEST_CASE("term - maps are looked up by key and last duplicate wins", "[term]") {
  const term m = term::map({{term::atom("b"), 1}, {term::atom("a"), 2}, {term::atom("b"), 3}});
  CHECK(m.is_map());
  CHECK(m.size() == 2);
  REQUIRE(m.find(term::atom("b")) != nullptr);
  CHECK(*m.find(term::atom("b")) == term(3));
  CHECK(m.find(term::atom("c")) == nullptr);
  CHECK(otter::to_string(m) == "#{a => 2,b => 3}");
  CHECK(m == term::map({{term::atom("a"), 2}, {term::atom("b"), 3}}));
}

TEST_CASE("term - floats print with a point and shortest digits", "[term]") {
  CHECK(otter::to_string(term(1.5)) == "1.5");
  CHECK(otter::to_string(term(2.0)) == "2.0");
  CHECK(otter::to_string(term(0.1)) == "0.1");
  CHECK(otter::to_string(term(1e300)) == "1.0e300");
  CHECK(term(1.5).as_double() == 1.5);
}

TEST_CASE("term - exact equality tells 1 and 1.0 apart", "[term]") {
  CHECK(term(1) != term(1.0));
  CHECK(term(1) == term(1L));
  CHECK(term(1) < term(1.0));
  CHECK(term(2) > term(1.5));
}

TEST_CASE("term - order follows Erlang's term order across kinds", "[term]") {
  const term ordered[] = {term(-1), term(1.5), term(3), term::atom("a"),
                          term::reference({0, 1, {1}}), term::port(0, 1), term(otter::pid::make(0, 1, 1)),
                          term::tuple({term(1)}), term::map({}), term(), term::list({1}), term::binary("a")};
  for (std::size_t i = 0; i + 1 < std::size(ordered); ++i) {
    INFO(i);
    CHECK(ordered[i] < ordered[i + 1]);
  }
}

TEST_CASE("term - copies share nothing mutable and compare equal", "[term]") {
  term a = term::tuple({term::atom("x"), term::list({1, 2, 3}), term::binary(std::string(100, 'q'))});
  term b = a;
  CHECK(a == b);
  a = term(5);
  CHECK(b.is_tuple(3));
  CHECK(b[2].binary_bytes() == std::string(100, 'q'));
  term c = std::move(b);
  CHECK(c.is_tuple(3));
  CHECK(b.is_nil());
}

TEST_CASE("term - pids print as otter prints them", "[term]") {
  CHECK(otter::to_string(term(otter::pid::make(0, 42, 1))) == "<0.42.1>");
  const auto n = otter::dist::intern_node("a@b", 7);
  const auto r = otter::dist::make_remote_pid(n, 99, 3);
  CHECK(otter::to_string(term(r)) == remote_text(n, ".99.3>"));
  CHECK(term(r).as_pid() == r);
}

TEST_CASE("term - references print with their node and words", "[term]") {
  const term r = term::reference({3, 3, {1, 2, 3}});
  CHECK(otter::to_string(r) == "#Ref<3.3.2.1>");
  CHECK(r.as_ref() == otter::term_ref{3, 3, {1, 2, 3}});
  CHECK(r != term::reference({3, 3, {1, 2, 4}}));
}

TEST_CASE("term - a local ref survives the trip through a term", "[term]") {
  const otter::ref local = otter::ref::from_bits(0x123456789abcull);
  const term t = term::from_ref(local, 4);
  CHECK(otter::dist::term_ref_to_local(t.as_ref(), 4) == local);
  CHECK(!otter::dist::term_ref_to_local(t.as_ref(), 5));
}

TEST_CASE("term - ports print with their node and id", "[term]") {
  CHECK(otter::to_string(term::port(2, 17)) == "#Port<2.17>");
  CHECK(term::port(2, 17).port_id() == 17);
}

TEST_CASE("term - operator<< prints to_string", "[term]") {
  std::ostringstream os;
  os << term::tuple({term::atom("a"), term::list({term(1)}, term::atom("b"))});
  CHECK(os.str() == "{a,[1|b]}");
}

TEST_CASE("term - heap parts dropped on another thread than the one that made them stay sound", "[term]") {
  // Each thread keeps the blocks it frees for its next heap parts; blocks move between threads this way.
  auto make = [](int i) {
    return term::tuple({term::binary(std::string(static_cast<std::size_t>(20 + i % 200), 'q')), term(i),
                        term::list({term::atom("a_long_atom_name_here"), term(i)})});
  };
  std::vector<term> made;
  for (int i = 0; i < 2000; ++i) made.push_back(make(i));
  std::thread other([v = std::move(made), make]() mutable {
    v.clear();
    std::vector<term> mine;
    for (int i = 0; i < 500; ++i) mine.push_back(make(i)); // from the blocks just freed
    for (int i = 0; i < 500; ++i)
      if (!(mine[static_cast<std::size_t>(i)] == make(i))) std::abort();
  });
  other.join();
  std::vector<term> again;
  for (int i = 0; i < 2000; ++i) again.push_back(make(i));
  for (int i = 0; i < 2000; ++i) CHECK(again[static_cast<std::size_t>(i)] == make(i));
}
