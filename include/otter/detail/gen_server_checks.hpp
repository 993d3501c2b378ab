#pragma once
// What a gen_server class offers otter, found at compile time: which of init,
// handle_call, handle_cast, handle_info and terminate it declares, in which
// form. Every declared handler otter cannot call is one static_assert that
// names the fix, never a handler silently left out.

#include <otter/detail/config.hpp>

#include <coroutine>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <otter/detail/callable_traits.hpp>
#include <otter/detail/gen_server_impl.hpp>
#include <otter/exit_reason.hpp>
#include <otter/message.hpp>
#include <otter/task.hpp>

namespace otter::gen_server {
template <class... T>
struct info;
template <class R>
class reply_to;
enum class init_result;
} // namespace otter::gen_server

namespace otter::detail::gs {

// ------------------------------------------------ which members are declared

// Naming a member in a class derived both from S and from a probe that has a
// member of that name is ambiguous exactly when S has one too, whatever its
// form: overloaded, a template, inherited or private. So "S declares
// handle_info" is knowable although its overload set cannot be enumerated.
// A final class cannot be derived from; there only a single, non-template
// member is seen.
struct init_probe {
  void init();
};
struct handle_call_probe {
  void handle_call();
};
struct handle_cast_probe {
  void handle_cast();
};
struct handle_info_probe {
  void handle_info();
};
struct terminate_probe {
  void terminate();
};
template <class S, class Probe>
struct probed : S, Probe {};

template <class S>
concept declares_init = (std::is_final_v<S> && requires { &S::init; }) ||
                        (!std::is_final_v<S> && !requires { &probed<S, init_probe>::init; });
template <class S>
concept declares_handle_call = (std::is_final_v<S> && requires { &S::handle_call; }) ||
                               (!std::is_final_v<S> && !requires { &probed<S, handle_call_probe>::handle_call; });
template <class S>
concept declares_handle_cast = (std::is_final_v<S> && requires { &S::handle_cast; }) ||
                               (!std::is_final_v<S> && !requires { &probed<S, handle_cast_probe>::handle_cast; });
template <class S>
concept declares_handle_info = (std::is_final_v<S> && requires { &S::handle_info; }) ||
                               (!std::is_final_v<S> && !requires { &probed<S, handle_info_probe>::handle_info; });
template <class S>
concept declares_terminate = (std::is_final_v<S> && requires { &S::terminate; }) ||
                             (!std::is_final_v<S> && !requires { &probed<S, terminate_probe>::terminate; });

/// Stands for "some reply_to<R>": binds to a handler's reply_to parameter whatever its R.
struct any_reply_to {
  template <class R>
  operator gen_server::reply_to<R>() const;
};
/// Stands for an argument of any type (to tell a wrong parameter list from a missing handler).
struct any_argument {
  template <class T>
  operator T() const;
};

/// What a handler may return besides its reply: void or otter::task<>.
template <class R>
inline constexpr bool is_plain_result = std::is_void_v<R> || std::is_same_v<R, task<>>;

template <class T>
struct dependent_false : std::false_type {};

// ------------------------------------------------------------------ init

template <class S, class... A>
concept has_init = requires(S& s, A&&... a) { s.init(std::forward<A>(a)...); };

template <class R>
inline constexpr bool is_init_result = std::is_void_v<R> || std::is_same_v<R, gen_server::init_result> ||
                                       std::is_same_v<R, task<>> || std::is_same_v<R, task<gen_server::init_result>>;

enum class init_problem { none, no_match, not_default_constructible, bad_result, no_constructor };

template <class S, class... A>
constexpr init_problem init_problem_of() {
  if constexpr (declares_init<S>) {
    if constexpr (!has_init<S, A...>)
      return init_problem::no_match;
    else if constexpr (!std::is_default_constructible_v<S>)
      return init_problem::not_default_constructible;
    else if constexpr (!is_init_result<decltype(std::declval<S&>().init(std::declval<A&&>()...))>)
      return init_problem::bad_result;
    else
      return init_problem::none;
  } else if constexpr (!std::is_constructible_v<S, A&&...>) {
    return init_problem::no_constructor;
  } else {
    return init_problem::none;
  }
}

template <class S, class... A>
constexpr bool check_init() {
  constexpr init_problem p = init_problem_of<S, A...>();
  static_assert(p != init_problem::no_match,
                "otter::gen_server: the server's init cannot be called with the start arguments; make the "
                "arguments given to start_link match init's parameters (init must be public). With an init, "
                "otter never falls back to a constructor");
  static_assert(p != init_problem::not_default_constructible,
                "otter::gen_server: a server with init is default-constructed first, then init runs; give it "
                "a default constructor (or drop init and take the start arguments in a constructor)");
  static_assert(p != init_problem::bad_result,
                "otter::gen_server: init must return void, gen_server::init_result, otter::task<> or "
                "otter::task<gen_server::init_result>");
  static_assert(p != init_problem::no_constructor,
                "otter::gen_server: the server has no init and no constructor taking the start arguments; "
                "add init(args...) or a constructor taking what start_link is given");
  return p == init_problem::none;
}

// ----------------------------------------------------------- handle_info

/// S::info_types, or void.
template <class S>
struct listed_info {
  using type = void;
};
template <class S>
  requires requires { typename S::info_types; }
struct listed_info<S> {
  using type = typename S::info_types;
};

template <class L>
struct info_list : std::false_type {};
template <class... T>
struct info_list<gen_server::info<T...>> : std::true_type {
  static constexpr bool lists_message = (std::is_same_v<T, message> || ...);
};

/// S has a handle_info that takes a T as otter passes it (an rvalue, else an lvalue).
template <class S, class T>
concept info_takes = requires(S& s, T& v) { s.handle_info(std::move(v)); } ||
                     requires(S& s, T& v) { s.handle_info(v); };

template <class S, class T>
auto info_result_probe() {
  if constexpr (requires(S& s, T& v) { s.handle_info(std::move(v)); })
    return std::type_identity<decltype(std::declval<S&>().handle_info(std::declval<T&&>()))>{};
  else
    return std::type_identity<decltype(std::declval<S&>().handle_info(std::declval<T&>()))>{};
}
template <class S, class T>
using info_result = typename decltype(info_result_probe<S, T>())::type;

/// The signature of S's one, non-template handle_info.
template <class S>
struct single_info {
  using pointer = decltype(&S::handle_info);
  using traits = std::conditional_t<std::is_member_function_pointer_v<pointer>, member_call_traits<pointer>,
                                    callable_traits<std::remove_pointer_t<pointer>>>;
};
/// The message type it takes (when it takes exactly one parameter).
template <class S>
using single_info_type = std::remove_cvref_t<std::tuple_element_t<0, typename single_info<S>::traits::args>>;

enum class info_form { none, catch_all, single, listed };
enum class info_problem {
  none,
  list_not_info,
  list_has_message,
  list_without_handler,
  overloaded_unlisted,
  not_a_function,
  wrong_arity,
  not_callable,
  bad_result,
};

template <class S>
constexpr info_form info_form_of() {
  if constexpr (!std::is_void_v<typename listed_info<S>::type>) {
    return info_form::listed;
  } else if constexpr (!declares_handle_info<S> || !requires { &S::handle_info; }) {
    return info_form::none; // or overloaded without a list: a problem, below
  } else if constexpr (!single_info<S>::traits::known) {
    return info_form::none;
  } else if constexpr (single_info<S>::traits::arity != 1) {
    return info_form::none;
  } else if constexpr (std::is_same_v<single_info_type<S>, message>) {
    return info_form::catch_all;
  } else {
    return info_form::single;
  }
}

template <class S>
constexpr info_problem info_problem_of() {
  using list = typename listed_info<S>::type;
  if constexpr (!std::is_void_v<list>) {
    if constexpr (!info_list<list>::value)
      return info_problem::list_not_info;
    else if constexpr (info_list<list>::lists_message)
      return info_problem::list_has_message;
    else if constexpr (!declares_handle_info<S> && !std::is_final_v<S>)
      return info_problem::list_without_handler;
    else
      return info_problem::none; // each listed type is checked by check_listed_info
  } else if constexpr (!declares_handle_info<S>) {
    return info_problem::none;
  } else if constexpr (!requires { &S::handle_info; }) {
    return info_problem::overloaded_unlisted;
  } else if constexpr (!single_info<S>::traits::known) {
    return info_problem::not_a_function;
  } else if constexpr (single_info<S>::traits::arity != 1) {
    return info_problem::wrong_arity;
  } else {
    using T = single_info_type<S>;
    if constexpr (!info_takes<S, T>)
      return info_problem::not_callable;
    else if constexpr (!is_plain_result<info_result<S, T>>)
      return info_problem::bad_result;
    else
      return info_problem::none;
  }
}

// One per listed type T, so that the compiler's "in instantiation of" note names T.
template <class S, class T>
constexpr bool check_listed_info() {
  if constexpr (!info_takes<S, T>) {
    static_assert(dependent_false<T>::value,
                  "otter::gen_server: a type listed in info_types has no handle_info taking it (the type is "
                  "named in the instantiation below); declare handle_info(T), (const T&) or (T&&), or remove "
                  "it from the list");
    return false;
  } else if constexpr (!is_plain_result<info_result<S, T>>) {
    static_assert(dependent_false<T>::value, "otter::gen_server: handle_info must return void or otter::task<>");
    return false;
  } else {
    return true;
  }
}
template <class S, class... T>
constexpr bool check_listed_infos(gen_server::info<T...>*) {
  constexpr bool ok[] = {true, check_listed_info<S, T>()...}; // each type checked, every error reported
  for (bool b : ok)
    if (!b) return false;
  return true;
}

template <class S>
constexpr bool check_handle_info() {
  constexpr info_problem p = info_problem_of<S>();
  static_assert(p != info_problem::list_not_info,
                "otter::gen_server: info_types must be otter::gen_server::info<T...>, the message types "
                "handle_info takes");
  static_assert(p != info_problem::list_has_message,
                "otter::gen_server: do not list otter::message in info_types; a handle_info(otter::message) "
                "is the catch-all and is tried last on its own");
  static_assert(p != info_problem::list_without_handler,
                "otter::gen_server: the server lists info_types but declares no handle_info");
  static_assert(p != info_problem::overloaded_unlisted,
                "otter::gen_server: handle_info is overloaded (or a template), and C++ cannot enumerate an "
                "overload set; list the message types it takes, in the order to try them, in the server: "
                "using info_types = otter::gen_server::info<T1, T2>;");
  static_assert(p != info_problem::not_a_function,
                "otter::gen_server: handle_info must be a member function taking one message");
  static_assert(p != info_problem::wrong_arity,
                "otter::gen_server: handle_info takes exactly one parameter, the message: handle_info(T), "
                "(const T&) or (T&&), or handle_info(otter::message) for any message");
  static_assert(p != info_problem::not_callable,
                "otter::gen_server: otter cannot call this handle_info; make it public and take the message "
                "by value, by const& or by &&");
  static_assert(p != info_problem::bad_result, "otter::gen_server: handle_info must return void or otter::task<>");
  if constexpr (p == info_problem::none && info_form_of<S>() == info_form::listed) {
    return check_listed_infos<S>(static_cast<typename listed_info<S>::type*>(nullptr));
  } else {
    return p == info_problem::none;
  }
}

/// Calls handle_info with `v` (moved if it takes an rvalue). A coroutine
/// handler comes back as the task to await; `v` must outlive it.
template <class S, class T>
std::optional<task<>> call_info(S& s, T& v) {
  if constexpr (requires { s.handle_info(std::move(v)); }) {
    if constexpr (std::is_void_v<decltype(s.handle_info(std::move(v)))>) {
      s.handle_info(std::move(v));
      return std::nullopt;
    } else {
      return s.handle_info(std::move(v));
    }
  } else {
    if constexpr (std::is_void_v<decltype(s.handle_info(v))>) {
      s.handle_info(v);
      return std::nullopt;
    } else {
      return s.handle_info(v);
    }
  }
}

template <class S, class T>
bool try_info(S& s, message& m, std::optional<task<>>& pending) {
  T* v = m.get_if<T>();
  if (v == nullptr) return false;
  pending = call_info(s, *v);
  return true;
}

template <class S, class... T>
std::optional<task<>> deliver_listed(S& s, message& m, gen_server::info<T...>*) {
  std::optional<task<>> pending;
  const bool taken = (try_info<S, T>(s, m, pending) || ...);
  if constexpr (info_takes<S, message>) {
    if (!taken) pending = call_info(s, m);
  } else {
    (void)taken; // nothing else takes it: dropped with `m`
  }
  return pending;
}

/// Gives a message that is neither a request nor a reply to the server's
/// handle_info: the first listed type it is, else the catch-all. A message
/// nothing takes is dropped (destroyed with `m`). `m` must outlive the task
/// returned for a coroutine handler.
template <class S>
std::optional<task<>> deliver_info(S& s, message& m) {
  constexpr info_form form = info_form_of<S>();
  if constexpr (form == info_form::catch_all) {
    return call_info(s, m);
  } else if constexpr (form == info_form::single) {
    using T = single_info_type<S>;
    if (T* v = m.get_if<T>()) return call_info(s, *v);
    return std::nullopt;
  } else if constexpr (form == info_form::listed) {
    return deliver_listed(s, m, static_cast<typename listed_info<S>::type*>(nullptr));
  } else {
    return std::nullopt;
  }
}

// ------------------------------------------------------------- terminate

enum class terminate_problem { none, not_callable, bad_result };

template <class S>
constexpr terminate_problem terminate_problem_of() {
  if constexpr (!declares_terminate<S>) {
    return terminate_problem::none;
  } else if constexpr (requires(S& s, exit_reason& r) { s.terminate(r); }) {
    return is_plain_result<decltype(std::declval<S&>().terminate(std::declval<exit_reason&>()))>
               ? terminate_problem::none
               : terminate_problem::bad_result;
  } else if constexpr (requires(S& s) { s.terminate(); }) {
    return is_plain_result<decltype(std::declval<S&>().terminate())> ? terminate_problem::none
                                                                     : terminate_problem::bad_result;
  } else {
    return terminate_problem::not_callable;
  }
}

template <class S>
constexpr bool check_terminate() {
  constexpr terminate_problem p = terminate_problem_of<S>();
  static_assert(p != terminate_problem::not_callable,
                "otter::gen_server: otter cannot call this terminate; declare a public terminate(), "
                "terminate(otter::exit_reason) or terminate(const otter::exit_reason&)");
  static_assert(p != terminate_problem::bad_result, "otter::gen_server: terminate must return void or otter::task<>");
  return p == terminate_problem::none;
}

/// The checks of a server's remote_requests (gen_server_remote.hpp).
template <class S>
constexpr bool check_remote();

/// Everything start_link checks about a server class started with arguments A.
template <class S, class... A>
constexpr bool check_server() {
  static_assert(std::is_class_v<S>, "otter::gen_server: a server is a class with handlers");
  if constexpr (std::is_class_v<S>) {
    // Each check runs, so that every mistake is reported at once.
    constexpr bool init_ok = check_init<S, A...>();
    constexpr bool info_ok = check_handle_info<S>();
    constexpr bool terminate_ok = check_terminate<S>();
    constexpr bool remote_ok = check_remote<S>();
    return init_ok && info_ok && terminate_ok && remote_ok;
  } else {
    return false;
  }
}

// ----------------------------------------------------- handle_call / cast

enum class request_problem {
  none,
  deferred_without_reply_type,
  reply_to_mismatch,
  wrong_parameters,
  no_handler,
  none_declared,
};

template <class S, class Req>
constexpr request_problem call_problem_of() {
  constexpr bool direct = requires(S& s, Req&& r) { s.handle_call(std::move(r)); };
  constexpr bool deferred_any = requires(S& s, Req&& r) { s.handle_call(std::move(r), any_reply_to{}); };
  if constexpr (requires { typename Req::reply_type; }) {
    if constexpr (direct || requires(S& s, Req&& r) {
                    s.handle_call(std::move(r), std::declval<gen_server::reply_to<typename Req::reply_type>>());
                  })
      return request_problem::none;
    else if constexpr (deferred_any)
      return request_problem::reply_to_mismatch;
  } else {
    if constexpr (direct)
      return request_problem::none;
    else if constexpr (deferred_any)
      return request_problem::deferred_without_reply_type;
  }
  if constexpr (requires(S& s, Req&& r) { s.handle_call(std::move(r), any_argument{}); } ||
                requires(S& s, Req&& r) { s.handle_call(std::move(r), any_argument{}, any_argument{}); } ||
                requires(S& s) { s.handle_call(); })
    return request_problem::wrong_parameters;
  else if constexpr (!declares_handle_call<S>)
    return request_problem::none_declared;
  else
    return request_problem::no_handler;
}

/// Whether `call(server_ref<S>, Req)` can be served; if not, one static_assert
/// naming the fix.
template <class S, class Req>
constexpr bool check_call() {
  constexpr request_problem p = call_problem_of<S, Req>();
  static_assert(p != request_problem::deferred_without_reply_type,
                "otter::gen_server::call: a deferred handle_call(Req, reply_to<R>) cannot tell the caller what "
                "it replies; declare using reply_type = R; in the request type");
  static_assert(p != request_problem::reply_to_mismatch,
                "otter::gen_server::call: handle_call's reply_to<R> does not match the request's reply_type; "
                "make them the same type");
  static_assert(p != request_problem::wrong_parameters,
                "otter::gen_server::call: handle_call for this request takes the wrong parameters; it takes "
                "the request and, for a deferred reply, a gen_server::reply_to<R>, nothing else");
  static_assert(p != request_problem::none_declared,
                "otter::gen_server::call: the server has no handle_call; declare R handle_call(Req) for this "
                "request type (or use cast and handle_cast)");
  static_assert(p != request_problem::no_handler,
                "otter::gen_server::call: the server has no handle_call for this request type; declare "
                "R handle_call(Req), or void handle_call(Req, gen_server::reply_to<R>) to reply later");
  return p == request_problem::none;
}

template <class S, class Msg>
constexpr request_problem cast_problem_of() {
  if constexpr (requires(S& s, Msg&& m) { s.handle_cast(std::move(m)); })
    return request_problem::none;
  else if constexpr (requires(S& s, Msg&& m) { s.handle_cast(std::move(m), any_argument{}); } ||
                     requires(S& s) { s.handle_cast(); })
    return request_problem::wrong_parameters;
  else if constexpr (!declares_handle_cast<S>)
    return request_problem::none_declared;
  else
    return request_problem::no_handler;
}

template <class S, class Msg>
constexpr bool check_cast() {
  constexpr request_problem p = cast_problem_of<S, Msg>();
  static_assert(p != request_problem::wrong_parameters,
                "otter::gen_server::cast: handle_cast for this message takes the wrong parameters; it takes "
                "the message only");
  static_assert(p != request_problem::none_declared,
                "otter::gen_server::cast: the server has no handle_cast; declare void handle_cast(Msg) for "
                "this message type");
  static_assert(p != request_problem::no_handler,
                "otter::gen_server::cast: the server has no handle_cast for this message type; declare "
                "void handle_cast(Msg)");
  return p == request_problem::none;
}

/// What `co_await` on a call that failed its check yields: converts to
/// anything, so that the check's static_assert stays the only error.
struct unchecked_reply {
  template <class T>
  operator T() const;
};
/// Returned by call/try_call instead of the awaiter when the check failed.
struct [[nodiscard("otter::gen_server::call does nothing until you co_await it")]] unchecked_call {
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  unchecked_reply await_resume() const noexcept { return {}; }
};

} // namespace otter::detail::gs
