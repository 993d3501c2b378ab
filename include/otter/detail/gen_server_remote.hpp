#pragma once
// gen_server requests from other nodes: a server's remote_requests list, its
// compile-time checks, and running `{'$gen_call', {Pid, Tag}, Req}` and
// `{'$gen_cast', Req}` terms through the same handle_call and handle_cast.

#include <otter/detail/config.hpp>

#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include <otter/detail/gen_server_checks.hpp>
#include <otter/detail/gen_server_impl.hpp>
#include <otter/dist/codec.hpp>
#include <otter/dist/term.hpp>
#include <otter/pid.hpp>
#include <otter/task.hpp>

namespace otter::gen_server {
template <class... T>
struct remote;
} // namespace otter::gen_server

namespace otter::detail::gs {

/// S::remote_requests, or void.
template <class S>
struct listed_remote {
  using type = void;
};
template <class S>
  requires requires { typename S::remote_requests; }
struct listed_remote<S> {
  using type = typename S::remote_requests;
};

/// S takes requests from other nodes (it lists remote_requests).
template <class S>
concept serves_remote = !std::is_void_v<typename listed_remote<S>::type>;

template <class L>
struct remote_list : std::false_type {};
template <class... T>
struct remote_list<gen_server::remote<T...>> : std::true_type {};

template <class S, class T>
inline constexpr bool remote_call_of = call_problem_of<S, T>() == request_problem::none;
template <class S, class T>
inline constexpr bool remote_cast_of = cast_problem_of<S, T>() == request_problem::none;

// One per listed type T, so that the compiler's "in instantiation of" note names T.
template <class S, class T>
constexpr bool check_remote_request() {
  if constexpr (!remote_call_of<S, T> && !remote_cast_of<S, T>) {
    static_assert(dependent_false<T>::value,
                  "otter::gen_server: a type listed in remote_requests has no handle_call or handle_cast "
                  "taking it (the type is named in the instantiation below); declare one, or remove it from "
                  "the list");
    return false;
  } else if constexpr (!has_term_codec<T>) {
    static_assert(dependent_false<T>::value,
                  "otter::gen_server: a type listed in remote_requests has no term codec (the type is named "
                  "in the instantiation below); give it `static constexpr auto term_fields = "
                  "otter::term_tuple(...)`, to_term/from_term hooks or an otter::codec specialisation");
    return false;
  } else if constexpr (remote_call_of<S, T>) {
    using R = typename reply_type_of<S, T>::type;
    if constexpr (!std::is_void_v<R> && !has_term_codec<R>) {
      static_assert(dependent_false<R>::value,
                    "otter::gen_server: a call listed in remote_requests replies a type without a term codec "
                    "(the reply type is named in the instantiation below); give the reply type a codec "
                    "(otter/dist/codec.hpp)");
      return false;
    } else {
      return true;
    }
  } else {
    return true;
  }
}
template <class S, class... T>
constexpr bool check_remote_requests(gen_server::remote<T...>*) {
  constexpr bool ok[] = {true, check_remote_request<S, T>()...}; // every error reported
  for (bool b : ok)
    if (!b) return false;
  return true;
}

template <class S>
constexpr bool check_remote() {
  if constexpr (!serves_remote<S>) {
    return true;
  } else if constexpr (!remote_list<typename listed_remote<S>::type>::value) {
    static_assert(dependent_false<S>::value,
                  "otter::gen_server: remote_requests must be otter::gen_server::remote<T...>, the request "
                  "types that callers on other nodes may send");
    return false;
  } else {
    return check_remote_requests<S>(static_cast<typename listed_remote<S>::type*>(nullptr));
  }
}

/// Sends `{Tag, Reply}` to a caller on another node (or to a term-level caller here).
void send_remote_reply(pid to, const term& tag, term reply);
/// Ends the server as OTP's gen_server does when no clause matches: exit
/// reason `{function_clause, "..."}` (an error of type function_clause).
[[noreturn]] void no_remote_clause(std::string_view handler, const term& request);

/// What a remote call with a handler returning void replies: `ok`, as OTP's servers do.
inline term remote_reply_term(no_value) { return term::atom("ok"); }
template <class R>
term remote_reply_term(const R& value) {
  return otter::to_term(value);
}

/// Runs handle_call for a request decoded from a remote caller's term. The
/// request moves into the coroutine frame of an asynchronous handler, which
/// thus never refers to the loop's message.
template <class S, class Req>
std::optional<task<>> run_remote_call(S& s, Req req, pid from, std::shared_ptr<const term> tag) {
  using R = typename reply_type_of<S, Req>::type;
  using W = std::conditional_t<std::is_void_v<R>, no_value, R>;
  if constexpr (requires { s.handle_call(std::move(req), gen_server::reply_to<R>(from, tag)); }) {
    using H = decltype(s.handle_call(std::move(req), gen_server::reply_to<R>(from, tag)));
    if constexpr (is_task<H>::value) {
      return [](S& srv, Req q, gen_server::reply_to<R> to) -> task<> {
        co_await srv.handle_call(std::move(q), std::move(to));
      }(s, std::move(req), gen_server::reply_to<R>(from, std::move(tag)));
    } else {
      s.handle_call(std::move(req), gen_server::reply_to<R>(from, std::move(tag)));
      return std::nullopt;
    }
  } else {
    using H = decltype(s.handle_call(std::move(req)));
    if constexpr (is_task<H>::value) {
      return [](S& srv, Req q, pid f, std::shared_ptr<const term> t) -> task<> {
        if constexpr (std::is_void_v<R>) {
          co_await srv.handle_call(std::move(q));
          send_remote_reply(f, *t, remote_reply_term(no_value{}));
        } else {
          W value = co_await srv.handle_call(std::move(q));
          send_remote_reply(f, *t, remote_reply_term(value));
        }
      }(s, std::move(req), from, std::move(tag));
    } else {
      if constexpr (std::is_void_v<R>) {
        s.handle_call(std::move(req));
        send_remote_reply(from, *tag, remote_reply_term(no_value{}));
      } else {
        W value = s.handle_call(std::move(req));
        send_remote_reply(from, *tag, remote_reply_term(value));
      }
      return std::nullopt;
    }
  }
}

template <class S, class Req>
std::optional<task<>> run_remote_cast(S& s, Req req) {
  using H = decltype(s.handle_cast(std::move(req)));
  if constexpr (is_task<H>::value) {
    return [](S& srv, Req q) -> task<> { co_await srv.handle_cast(std::move(q)); }(s, std::move(req));
  } else {
    s.handle_cast(std::move(req));
    return std::nullopt;
  }
}

template <class S, class T>
bool try_remote_call(S& s, const term& req, pid from, const term& tag, std::optional<task<>>& pending) {
  if constexpr (remote_call_of<S, T>) {
    std::optional<T> v = from_term<T>(req);
    if (!v) return false;
    pending = run_remote_call<S, T>(s, std::move(*v), from, std::make_shared<const term>(tag));
    return true;
  } else {
    return false;
  }
}

template <class S, class T>
bool try_remote_cast(S& s, const term& req, std::optional<task<>>& pending) {
  if constexpr (remote_cast_of<S, T>) {
    std::optional<T> v = from_term<T>(req);
    if (!v) return false;
    pending = run_remote_cast<S, T>(s, std::move(*v));
    return true;
  } else {
    return false;
  }
}

template <class S, class... T>
bool deliver_remote_listed(S& s, const term& t, std::optional<task<>>& pending, gen_server::remote<T...>*) {
  if (t.is_tuple(3) && t[0].is_atom("$gen_call") && t[1].is_tuple(2) && t[1][0].is_pid()) {
    const pid from = t[1][0].as_pid();
    const bool served = (try_remote_call<S, T>(s, t[2], from, t[1][1], pending) || ...);
    if (!served) no_remote_clause("handle_call", t[2]);
    return true;
  }
  if (t.is_tuple(2) && t[0].is_atom("$gen_cast")) {
    const bool served = (try_remote_cast<S, T>(s, t[1], pending) || ...);
    if (!served) no_remote_clause("handle_cast", t[1]);
    return true;
  }
  return false;
}

/// A term that is a gen_server call or cast goes to the handler of the first
/// listed type it decodes to (true); any other term is not for them (false).
/// A call or cast that decodes to no listed type ends the server.
template <class S>
bool deliver_remote(S& s, const term& t, std::optional<task<>>& pending) {
  return deliver_remote_listed(s, t, pending, static_cast<typename listed_remote<S>::type*>(nullptr));
}

} // namespace otter::detail::gs
