#pragma once
// The argument and result types of a non-generic callable (function, function
// pointer or lambda), used to route messages to handlers by type.

#include <otter/detail/config.hpp>

#include <cstddef>
#include <tuple>
#include <type_traits>

namespace otter::detail {

template <class F, class = void>
struct callable_traits {
  static constexpr bool known = false;
};

template <class R, class... A>
struct callable_traits<R(A...), void> {
  static constexpr bool known = true;
  using result = R;
  using args = std::tuple<A...>;
  static constexpr std::size_t arity = sizeof...(A);
};
template <class R, class... A>
struct callable_traits<R(A...) noexcept, void> : callable_traits<R(A...)> {};
template <class R, class... A>
struct callable_traits<R (*)(A...), void> : callable_traits<R(A...)> {};
template <class R, class... A>
struct callable_traits<R (*)(A...) noexcept, void> : callable_traits<R(A...)> {};

template <class M>
struct member_call_traits {
  static constexpr bool known = false;
};
#define OTTER_MEMBER_CALL_TRAITS(QUALS)                                                   \
  template <class R, class C, class... A>                                                  \
  struct member_call_traits<R (C::*)(A...) QUALS> : callable_traits<R(A...)> {};           \
  template <class R, class C, class... A>                                                  \
  struct member_call_traits<R (C::*)(A...) QUALS noexcept> : callable_traits<R(A...)> {};
OTTER_MEMBER_CALL_TRAITS()
OTTER_MEMBER_CALL_TRAITS(const)
OTTER_MEMBER_CALL_TRAITS(&)
OTTER_MEMBER_CALL_TRAITS(const&)
OTTER_MEMBER_CALL_TRAITS(&&)
OTTER_MEMBER_CALL_TRAITS(const&&)
#undef OTTER_MEMBER_CALL_TRAITS

// Class types with a single, non-template operator() (lambdas, function objects).
template <class F>
struct callable_traits<F, std::void_t<decltype(&F::operator())>>
    : member_call_traits<decltype(&F::operator())> {};

template <class F>
using traits_of = callable_traits<std::remove_cvref_t<F>>;

/// The decayed type of a one-argument callable's parameter.
template <class F>
using message_type_of = std::remove_cvref_t<std::tuple_element_t<0, typename traits_of<F>::args>>;

/// True when every parameter of F is a value (not a reference), so that the
/// coroutine F returns owns copies of its arguments.
template <class F>
constexpr bool takes_all_by_value() {
  using T = traits_of<F>;
  if constexpr (!T::known) {
    return false;
  } else {
    return []<class... A>(std::tuple<A...>*) {
      return (!std::is_reference_v<A> && ...);
    }(static_cast<typename T::args*>(nullptr));
  }
}

} // namespace otter::detail
