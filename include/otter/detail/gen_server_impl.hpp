#pragma once
// The machinery behind otter::gen_server: request envelopes that carry, from
// the caller's side, the code that dispatches them to the server's handlers.

#include <otter/detail/config.hpp>

#include <chrono>
#include <concepts>
#include <optional>
#include <type_traits>
#include <utility>

#include <otter/detail/envelope.hpp>
#include <otter/detail/runtime.hpp>
#include <otter/exit_reason.hpp>
#include <otter/pid.hpp>
#include <otter/ref.hpp>
#include <otter/task.hpp>

namespace otter::detail {

namespace gs {

/// The reply to a call, tagged with the call's reference.
template <class R>
struct call_reply {
  ref tag;
  R value;
};
/// What a call to a handler returning void replies.
struct no_value {};

template <class R>
ref reply_tag_of(const envelope* e) noexcept {
  return static_cast<const message_envelope<call_reply<R>>*>(e)->value.tag;
}

} // namespace gs

// Replies are dropped on arrival unless their caller still waits for them.
template <class R>
inline constexpr type_tag message_tag<gs::call_reply<R>>{&destroy_message<gs::call_reply<R>>, nullptr,
                                                          message_kind::reply, &gs::reply_tag_of<R>};

namespace gs {

template <class T>
struct is_task : std::false_type {};
template <class T>
struct is_task<task<T>> : std::true_type {
  using value_type = T;
};

/// T, or what a task<T> produces.
template <class T>
struct unwrap_task {
  using type = T;
};
template <class T>
struct unwrap_task<task<T>> {
  using type = T;
};

enum class request_kind : unsigned char { call, cast, stop };

/// What a handler leaves for the server loop. The request itself stays owned
/// by the loop's message while the handler runs.
struct request_context {
  std::optional<task<>> pending; ///< an asynchronous handler, for the server to await
  bool stop = false;
  exit_reason stop_reason;
};

/// The common head of every gen_server request.
struct request : envelope {
  void (*invoke)(void* server, request* self, request_context& ctx) = nullptr;
  const void* server_type = nullptr; ///< which server class the sender compiled against
  pid from;
  ref call_tag; ///< the call's reference (null for casts)
  request_kind kind = request_kind::cast;
};

template <class S>
inline constexpr char server_type_tag = 0; // its address identifies S

template <class Req>
struct request_of final : request {
  template <class... A>
  explicit request_of(A&&... a) : payload(std::forward<A>(a)...) {}
  Req payload;
};

template <class Req>
void destroy_request(envelope* e) noexcept {
  auto* r = static_cast<request_of<Req>*>(e);
  r->~request_of<Req>();
  pool_deallocate(r, sizeof(request_of<Req>));
}
template <class Req>
inline constexpr type_tag request_tag{&destroy_request<Req>, nullptr, message_kind::server_request, nullptr};

template <class Req, class... A>
request_of<Req>* make_request(A&&... a) {
  void* mem = pool_allocate(sizeof(request_of<Req>));
  request_of<Req>* r;
  try {
    r = new (mem) request_of<Req>(std::forward<A>(a)...);
  } catch (...) {
    pool_deallocate(mem, sizeof(request_of<Req>));
    throw;
  }
  r->tag = &request_tag<Req>;
  return r;
}

template <class R>
void send_reply(pid to, ref tag, R&& value) {
  using V = std::decay_t<R>;
  send_envelope(to, make_message<call_reply<V>>(call_reply<V>{tag, std::forward<R>(value)}));
}

/// The reply type of calling S with Req: Req::reply_type if declared, else
/// what handle_call returns (unwrapping task<T>).
template <class S, class Req, class = void>
struct reply_type_of {
  using type = typename unwrap_task<decltype(std::declval<S&>().handle_call(std::declval<Req&&>()))>::type;
};
template <class S, class Req>
struct reply_type_of<S, Req, std::void_t<typename Req::reply_type>> {
  using type = typename Req::reply_type;
};

} // namespace gs
} // namespace otter::detail
