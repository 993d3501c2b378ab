#include <otter/dist/codec.hpp>

#include <cstdint>
#include <limits>

#include <catch2/catch.hpp>

using otter::term;

namespace {

struct add {
  int n;
  static constexpr auto term_fields = otter::term_tuple("add", &add::n);
};

struct pos {
  int x;
  double y;
  static constexpr auto term_fields = otter::term_tuple(&pos::x, &pos::y);
};

struct no_codec {
  int n;
};

template <class T>
T round_trip(const T& v) {
  auto back = otter::from_term<T>(otter::to_term(v));
  REQUIRE(back);
  return *back;
}

} // namespace

namespace shapes {
struct circle {
  double r;
};
inline term to_term(const circle& c) { return term::tuple({term::atom("circle"), c.r}); }
inline bool from_term(const term& t, circle& c) {
  if (!t.is_tuple(2) || !t[0].is_atom("circle") || !t[1].is_float()) return false;
  c.r = t[1].as_double();
  return true;
}
struct square {
  int side;
};
} // namespace shapes

template <>
struct otter::codec<shapes::square> {
  static term to_term(const shapes::square& s) { return term::tuple({term::atom("square"), s.side}); }
  static bool from_term(const term& t, shapes::square& s) {
    return t.is_tuple(2) && t[0].is_atom("square") && otter::from_term(t[1], s.side);
  }
};

static_assert(otter::has_term_codec<int>);
static_assert(otter::has_term_codec<std::vector<std::pair<std::string, otter::pid>>>);
static_assert(otter::has_term_codec<add>);
static_assert(otter::has_term_codec<shapes::circle>);
static_assert(otter::has_term_codec<shapes::square>);
static_assert(!otter::has_term_codec<no_codec>);
static_assert(!otter::has_term_codec<std::vector<no_codec>>);
static_assert(!otter::has_term_codec<std::optional<no_codec>>);
static_assert(!otter::has_term_codec<std::map<int, no_codec>>);

TEST_CASE("codec - a type with no codec fails has_term_codec", "[codec]") {
  STATIC_REQUIRE(!otter::has_term_codec<no_codec>);
  STATIC_REQUIRE(!otter::has_term_codec<std::tuple<int, no_codec>>);
}

TEST_CASE("codec - bool is the atoms true and false", "[codec]") {
  CHECK(otter::to_term(true) == term::atom("true"));
  CHECK(otter::from_term<bool>(term::atom("false")) == false);
  CHECK(!otter::from_term<bool>(term::atom("yes")));
}

TEST_CASE("codec - integers are range-checked on decode", "[codec]") {
  CHECK(otter::to_term(std::uint8_t{200}) == term(200));
  CHECK(otter::from_term<std::uint8_t>(term(255)) == 255);
  CHECK(!otter::from_term<std::uint8_t>(term(256)));
  CHECK(!otter::from_term<unsigned>(term(-1)));
  CHECK(otter::from_term<std::int64_t>(term(INT64_MIN)) == INT64_MIN);
  CHECK(round_trip(std::numeric_limits<std::uint64_t>::max()) == std::numeric_limits<std::uint64_t>::max());
  CHECK(!otter::from_term<std::int64_t>(term(std::numeric_limits<std::uint64_t>::max())));
  CHECK(!otter::from_term<int>(term::atom("one")));
}

TEST_CASE("codec - doubles are floats", "[codec]") {
  CHECK(otter::to_term(2.5) == term(2.5));
  CHECK(otter::from_term<double>(term(2.5)) == 2.5);
  CHECK(!otter::from_term<double>(term(2)));
}

TEST_CASE("codec - strings are binaries and read charlists too", "[codec]") {
  CHECK(otter::to_term(std::string("hi")) == term::binary("hi"));
  CHECK(otter::from_term<std::string>(term::binary("hi")) == "hi");
  CHECK(otter::from_term<std::string>(term::list({104, 233})) == "h\xc3\xa9");
  CHECK(otter::from_term<std::string>(term()) == "");
  CHECK(!otter::from_term<std::string>(term::list({-1})));
  CHECK(!otter::from_term<std::string>(term::atom("hi")));
}

TEST_CASE("codec - otter::atom is an atom", "[codec]") {
  CHECK(otter::to_term(otter::atom{"ok"}) == term::atom("ok"));
  CHECK(otter::from_term<otter::atom>(term::atom("ok")) == otter::atom{"ok"});
  CHECK(!otter::from_term<otter::atom>(term::binary("ok")));
}

TEST_CASE("codec - pids and terms pass through", "[codec]") {
  const otter::pid p = otter::pid::make(0, 3, 1);
  CHECK(round_trip(p) == p);
  const term t = term::tuple({term::atom("x"), term::list({1})});
  CHECK(round_trip(t) == t);
}

TEST_CASE("codec - local refs read back, others do not", "[codec]") {
  const otter::ref r = otter::ref::from_bits(77);
  CHECK(round_trip(r) == r);
  CHECK(!otter::from_term<otter::ref>(term::reference({otter::dist::intern_node("o@h", 1), 3, {1, 2, 3}})));
}

TEST_CASE("codec - vectors are lists, pairs and tuples are tuples", "[codec]") {
  CHECK(otter::to_term(std::vector<int>{1, 2}) == term::list({1, 2}));
  CHECK(round_trip(std::vector<std::string>{"a", "b"}) == std::vector<std::string>{"a", "b"});
  CHECK(!otter::from_term<std::vector<int>>(term::list({1}, term(2))));
  CHECK(otter::to_term(std::pair<int, bool>{1, true}) == term::tuple({1, term::atom("true")}));
  const std::tuple<int, std::string, double> tu{1, "x", 0.5};
  CHECK(round_trip(tu) == tu);
  CHECK(!otter::from_term<std::pair<int, int>>(term::tuple({1, 2, 3})));
}

TEST_CASE("codec - optional is undefined or the value", "[codec]") {
  CHECK(otter::to_term(std::optional<int>{}) == term::atom("undefined"));
  CHECK(otter::to_term(std::optional<int>{4}) == term(4));
  const auto none = otter::from_term<std::optional<int>>(term::atom("undefined"));
  REQUIRE(none);
  CHECK(!none->has_value());
  CHECK(otter::from_term<std::optional<int>>(term(4))->value() == 4);
}

TEST_CASE("codec - maps and unordered maps are maps", "[codec]") {
  const std::map<std::string, int> m{{"a", 1}, {"b", 2}};
  CHECK(otter::to_term(m) == term::map({{term::binary("a"), 1}, {term::binary("b"), 2}}));
  CHECK(round_trip(m) == m);
  const std::unordered_map<int, bool> u{{1, true}};
  CHECK(round_trip(u) == u);
}

TEST_CASE("codec - term_fields with a tag is {tag, Fields...}", "[codec]") {
  CHECK(otter::to_term(add{5}) == term::tuple({term::atom("add"), 5}));
  CHECK(otter::from_term<add>(term::tuple({term::atom("add"), 7}))->n == 7);
  CHECK(!otter::from_term<add>(term::tuple({term::atom("sub"), 7})));
  CHECK(!otter::from_term<add>(term::tuple({term::atom("add"), 7, 8})));
}

TEST_CASE("codec - term_fields without a tag is {Fields...}", "[codec]") {
  CHECK(otter::to_term(pos{1, 2.0}) == term::tuple({1, 2.0}));
  const auto p = otter::from_term<pos>(term::tuple({3, 4.5}));
  REQUIRE(p);
  CHECK(p->x == 3);
  CHECK(p->y == 4.5);
}

TEST_CASE("codec - a user codec specialisation is used", "[codec]") {
  CHECK(otter::to_term(shapes::square{3}) == term::tuple({term::atom("square"), 3}));
  CHECK(otter::from_term<shapes::square>(otter::to_term(shapes::square{3}))->side == 3);
}

TEST_CASE("codec - to_term and from_term found by ADL are used", "[codec]") {
  CHECK(otter::to_term(shapes::circle{1.5}) == term::tuple({term::atom("circle"), 1.5}));
  CHECK(otter::from_term<shapes::circle>(term::tuple({term::atom("circle"), 2.0}))->r == 2.0);
  CHECK(otter::to_term(std::vector<shapes::circle>{{1.0}}) == term::list({term::tuple({term::atom("circle"), 1.0})}));
}

TEST_CASE("codec - exit reasons map to Erlang's", "[codec]") {
  using otter::exit_reason;
  CHECK(otter::to_term(exit_reason::normal()) == term::atom("normal"));
  CHECK(otter::to_term(exit_reason::killed()) == term::atom("killed"));
  CHECK(otter::to_term(exit_reason::noconnection()) == term::atom("noconnection"));
  CHECK(otter::to_term(exit_reason::shutdown("bye")) == term::tuple({term::atom("shutdown"), term::atom("bye")}));
  CHECK(otter::to_term(exit_reason::custom("oops")) == term::atom("oops"));
  CHECK(otter::to_term(exit_reason::error("std::runtime_error", "boom")) ==
        term::tuple({term::atom("std::runtime_error"), term::binary("boom")}));
  for (const auto& r : {exit_reason::normal(), exit_reason::kill(), exit_reason::killed(), exit_reason::shutdown(),
                        exit_reason::noproc(), exit_reason::noconnection(), exit_reason::timeout(),
                        exit_reason::shutdown("bye"), exit_reason::custom("oops"),
                        exit_reason::error("std::runtime_error", "boom")}) {
    INFO(r.to_string());
    CHECK(round_trip(r) == r);
  }
}

TEST_CASE("codec - any other Erlang exit reason becomes custom with its text", "[codec]") {
  const term t = term::tuple({term::atom("badmatch"), 3});
  CHECK(otter::from_term<otter::exit_reason>(t) == otter::exit_reason::custom("{badmatch,3}"));
}
