#pragma once
// otter::codec — C++ values to Erlang terms and back, for messages that cross nodes.

#include <otter/detail/config.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <otter/dist/node_table.hpp>
#include <otter/dist/term.hpp>
#include <otter/exit_reason.hpp>
#include <otter/pid.hpp>
#include <otter/ref.hpp>

namespace otter {

/// How a C++ type becomes an Erlang term and back. Specialise it for your type:
///
///     template <> struct otter::codec<point> {
///       static term to_term(const point& p) { return term::tuple({p.x, p.y}); }
///       static bool from_term(const term& t, point& p);  // false: not a point
///     };
///
/// Or, simpler, give the type a `term_fields` (see term_tuple), or a pair of
/// functions found by argument-dependent lookup next to the type:
/// `term to_term(const T&)` and `bool from_term(const term&, T&)`.
/// The primary template is empty: a type with none of these has no codec.
template <class T>
struct codec {};

/// An Erlang atom as a C++ value (a `std::string` maps to a binary instead).
struct atom {
  std::string name;
  friend bool operator==(const atom&, const atom&) = default;
};

/// A declarative codec: which members, in order, make up the tuple, with an
/// optional leading atom tag.
///
///     struct add { int n; static constexpr auto term_fields = otter::term_tuple("add", &add::n); };  // {add, N}
///     struct pos { int x, y; static constexpr auto term_fields = otter::term_tuple(&pos::x, &pos::y); }; // {X, Y}
template <class... Members>
struct term_fields_t {
  const char* tag; // null: no tag
  std::tuple<Members...> members;
};

template <std::size_t N, class... Members>
  requires(std::is_member_object_pointer_v<Members> && ...)
constexpr term_fields_t<Members...> term_tuple(const char (&tag)[N], Members... members) {
  return {tag, {members...}};
}

template <class... Members>
  requires(sizeof...(Members) > 0 && (std::is_member_object_pointer_v<Members> && ...))
constexpr term_fields_t<Members...> term_tuple(Members... members) {
  return {nullptr, {members...}};
}

namespace detail {

// Probes for the argument-dependent hooks. They convert to the type, so a hook
// `to_term(const T&)` next to T accepts them, while otter's own generic
// to_term/from_term refuse them: that keeps the probe from finding itself.
template <class T>
struct adl_in {
  const T* p;
  operator const T&() const { return *p; }
};
template <class T>
struct adl_out {
  T* p;
  operator T&() const { return *p; }
};
template <class T>
inline constexpr bool is_adl_probe = false;
template <class T>
inline constexpr bool is_adl_probe<adl_in<T>> = true;
template <class T>
inline constexpr bool is_adl_probe<adl_out<T>> = true;

template <class M>
struct member_of;
template <class M, class C>
struct member_of<M C::*> {
  using type = M;
};

} // namespace detail

template <class T>
  requires(!detail::is_adl_probe<T>)
term to_term(const T& value);
template <class T>
  requires(!detail::is_adl_probe<T>)
bool from_term(const term& t, T& out);

namespace detail {

template <class T>
concept specialised_codec = requires(const T& v, const term& t, T& o) {
  { codec<T>::to_term(v) } -> std::same_as<term>;
  { codec<T>::from_term(t, o) } -> std::same_as<bool>;
};

template <class T>
concept adl_codec = requires(const term& t, const T& v, T& o) {
  { to_term(adl_in<T>{&v}) } -> std::same_as<term>;
  { from_term(t, adl_out<T>{&o}) } -> std::same_as<bool>;
};

template <class F>
struct fields_traits;
template <class... Ms>
struct fields_traits<term_fields_t<Ms...>> {
  static constexpr std::size_t count = sizeof...(Ms);
  template <template <class> class P>
  static constexpr bool all = (P<typename member_of<Ms>::type>::value && ...);
};

template <class T>
struct has_codec_v;

template <class T>
concept fields_codec = requires { T::term_fields; } &&
                       fields_traits<std::remove_cvref_t<decltype(T::term_fields)>>::template all<has_codec_v>;

} // namespace detail

/// True when T can cross to an Erlang node: codec<T> is specialised (all the
/// built-ins are), T has `term_fields`, or to_term/from_term hooks are found next to T.
template <class T>
concept has_term_codec = detail::specialised_codec<T> || detail::fields_codec<T> || detail::adl_codec<T>;

namespace detail {
template <class T>
struct has_codec_v : std::bool_constant<has_term_codec<T>> {};
} // namespace detail

/// The term for `value`.
template <class T>
  requires(!detail::is_adl_probe<T>)
term to_term(const T& value) {
  static_assert(has_term_codec<T>, "otter::to_term: this type has no term codec (otter/dist/codec.hpp)");
  if constexpr (detail::specialised_codec<T>) {
    return codec<T>::to_term(value);
  } else if constexpr (detail::fields_codec<T>) {
    constexpr auto f = T::term_fields;
    return std::apply(
        [&](auto... m) {
          if constexpr (T::term_fields.tag != nullptr)
            return term::tuple({term::atom(T::term_fields.tag), otter::to_term(value.*m)...});
          else
            return term::tuple({otter::to_term(value.*m)...});
        },
        f.members);
  } else {
    return to_term(detail::adl_in<T>{&value});
  }
}

/// Reads `t` into `out`; false (with `out` in an unspecified but valid state)
/// when `t` does not have T's shape or a value is out of range.
template <class T>
  requires(!detail::is_adl_probe<T>)
bool from_term(const term& t, T& out) {
  static_assert(has_term_codec<T>, "otter::from_term: this type has no term codec (otter/dist/codec.hpp)");
  if constexpr (detail::specialised_codec<T>) {
    return codec<T>::from_term(t, out);
  } else if constexpr (detail::fields_codec<T>) {
    constexpr auto f = T::term_fields;
    constexpr std::size_t n = std::tuple_size_v<decltype(f.members)>;
    constexpr bool tagged = T::term_fields.tag != nullptr;
    const std::size_t first = tagged ? 1 : 0;
    if (!t.is_tuple(n + first)) return false;
    if constexpr (tagged)
      if (!t[0].is_atom(T::term_fields.tag)) return false;
    return std::apply(
        [&](auto... m) {
          std::size_t i = first;
          return (otter::from_term(t[i++], out.*m) && ...);
        },
        f.members);
  } else {
    return from_term(t, detail::adl_out<T>{&out});
  }
}

/// The T that `t` holds, or nullopt.
template <class T>
std::optional<T> from_term(const term& t) {
  T v{};
  if (!otter::from_term(t, v)) return std::nullopt;
  return v;
}

// ---- built-in codecs ----------------------------------------------------------

/// `true` / `false`.
template <>
struct codec<bool> {
  static term to_term(bool b) { return term::atom(b ? "true" : "false"); }
  static bool from_term(const term& t, bool& out) {
    if (t.is_atom("true")) return out = true, true;
    if (t.is_atom("false")) return out = false, true;
    return false;
  }
};

/// Integers, range-checked on the way back.
template <std::integral T>
  requires(!std::same_as<T, bool>)
struct codec<T> {
  static term to_term(T v) {
    if constexpr (std::is_signed_v<T>) return term(static_cast<long long>(v));
    else return term(static_cast<unsigned long long>(v));
  }
  static bool from_term(const term& t, T& out) {
    if (auto s = t.to_int64()) {
      if (!std::in_range<T>(*s)) return false;
      out = static_cast<T>(*s);
      return true;
    }
    if (auto u = t.to_uint64()) {
      if (!std::in_range<T>(*u)) return false;
      out = static_cast<T>(*u);
      return true;
    }
    return false;
  }
};

/// Floats only (an Erlang integer is not taken for a double).
template <std::floating_point T>
struct codec<T> {
  static term to_term(T v) { return term(static_cast<double>(v)); }
  static bool from_term(const term& t, T& out) {
    if (!t.is_float()) return false;
    out = static_cast<T>(t.as_double());
    return true;
  }
};

/// A binary; a charlist (a list of Unicode code points, written as UTF-8) is taken too.
template <>
struct codec<std::string> {
  static term to_term(const std::string& s) { return term::binary(s); }
  static bool from_term(const term& t, std::string& out);
};

template <>
struct codec<atom> {
  static term to_term(const atom& a) { return term::atom(a.name); }
  static bool from_term(const term& t, atom& out) {
    if (!t.is_atom()) return false;
    out.name = std::string(t.atom_name());
    return true;
  }
};

template <>
struct codec<term> {
  static term to_term(const term& t) { return t; }
  static bool from_term(const term& t, term& out) {
    out = t;
    return true;
  }
};

template <>
struct codec<pid> {
  static term to_term(pid p) { return term(p); }
  static bool from_term(const term& t, pid& out) {
    if (!t.is_pid()) return false;
    out = t.as_pid();
    return true;
  }
};

/// A reference of this node (dist::local_node_index()); only those read back.
template <>
struct codec<ref> {
  static term to_term(ref r) { return term::from_ref(r, dist::local_node_index()); }
  static bool from_term(const term& t, ref& out) {
    if (!t.is_reference()) return false;
    auto r = dist::term_ref_to_local(t.as_ref(), dist::local_node_index());
    if (!r) return false;
    out = *r;
    return true;
  }
};

/// normal, kill, killed, shutdown, noproc, noconnection, timeout ↔ those atoms;
/// shutdown(D) ↔ {shutdown, 'D'}; custom(V) ↔ 'V'; error(Type, What) ↔
/// {'Type', <<"What">>}; any other term from Erlang → custom(to_string(term)).
template <>
struct codec<exit_reason> {
  static term to_term(const exit_reason& r);
  static bool from_term(const term& t, exit_reason& out);
};

/// A proper list.
template <class T>
  requires has_term_codec<T>
struct codec<std::vector<T>> {
  static term to_term(const std::vector<T>& v) {
    std::vector<term> e;
    e.reserve(v.size());
    for (const auto& x : v) e.push_back(otter::to_term(x));
    return term::list(std::move(e));
  }
  static bool from_term(const term& t, std::vector<T>& out) {
    if (!t.is_proper_list()) return false;
    out.clear();
    out.reserve(t.size());
    for (const term& x : t.elements()) {
      T v{};
      if (!otter::from_term(x, v)) return false;
      out.push_back(std::move(v));
    }
    return true;
  }
};

/// `{A, B}`.
template <class A, class B>
  requires(has_term_codec<A> && has_term_codec<B>)
struct codec<std::pair<A, B>> {
  static term to_term(const std::pair<A, B>& p) { return term::tuple({otter::to_term(p.first), otter::to_term(p.second)}); }
  static bool from_term(const term& t, std::pair<A, B>& out) {
    return t.is_tuple(2) && otter::from_term(t[0], out.first) && otter::from_term(t[1], out.second);
  }
};

/// `{E1, ..., En}`.
template <class... Ts>
  requires(has_term_codec<Ts> && ...)
struct codec<std::tuple<Ts...>> {
  static term to_term(const std::tuple<Ts...>& v) {
    return std::apply([](const auto&... e) { return term::tuple(std::vector<term>{otter::to_term(e)...}); }, v);
  }
  static bool from_term(const term& t, std::tuple<Ts...>& out) {
    if (!t.is_tuple(sizeof...(Ts))) return false;
    return std::apply(
        [&](auto&... e) {
          std::size_t i = 0;
          return (otter::from_term(t[i++], e) && ...);
        },
        out);
  }
};

/// `undefined` or the value.
template <class T>
  requires has_term_codec<T>
struct codec<std::optional<T>> {
  static term to_term(const std::optional<T>& v) { return v ? otter::to_term(*v) : term::atom("undefined"); }
  static bool from_term(const term& t, std::optional<T>& out) {
    if (t.is_atom("undefined")) {
      out.reset();
      return true;
    }
    T v{};
    if (!otter::from_term(t, v)) return false;
    out = std::move(v);
    return true;
  }
};

namespace detail {
template <class M>
term map_to_term(const M& m) {
  std::vector<std::pair<term, term>> e;
  e.reserve(m.size());
  for (const auto& [k, v] : m) e.emplace_back(otter::to_term(k), otter::to_term(v));
  return term::map(std::move(e));
}
template <class M>
bool map_from_term(const term& t, M& out) {
  if (!t.is_map()) return false;
  out.clear();
  for (const auto& [k, v] : t.map_entries()) {
    typename M::key_type key{};
    typename M::mapped_type val{};
    if (!otter::from_term(k, key) || !otter::from_term(v, val)) return false;
    out.emplace(std::move(key), std::move(val));
  }
  return true;
}
} // namespace detail

/// A map.
template <class K, class V, class C, class A>
  requires(has_term_codec<K> && has_term_codec<V>)
struct codec<std::map<K, V, C, A>> {
  static term to_term(const std::map<K, V, C, A>& m) { return detail::map_to_term(m); }
  static bool from_term(const term& t, std::map<K, V, C, A>& out) { return detail::map_from_term(t, out); }
};

/// A map.
template <class K, class V, class H, class E, class A>
  requires(has_term_codec<K> && has_term_codec<V>)
struct codec<std::unordered_map<K, V, H, E, A>> {
  static term to_term(const std::unordered_map<K, V, H, E, A>& m) { return detail::map_to_term(m); }
  static bool from_term(const term& t, std::unordered_map<K, V, H, E, A>& out) { return detail::map_from_term(t, out); }
};

} // namespace otter
