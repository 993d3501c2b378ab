#pragma once
// otter::receive — Erlang's selective receive, as an awaitable.

#include <otter/detail/config.hpp>

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include <otter/detail/callable_traits.hpp>
#include <otter/detail/envelope.hpp>
#include <otter/detail/pcb.hpp>
#include <otter/detail/runtime.hpp>
#include <otter/detail/timer_node.hpp>
#include <otter/mailbox_mark.hpp>
#include <otter/message.hpp>

namespace otter {

/// A clause matching messages of the handler's parameter type for which `pred`
/// returns true. Made by `when`.
template <class Pred, class Handler>
struct guarded_clause {
  Pred pred;
  Handler handler;
};

/// `when(pred, handler)`: matches a message of the handler's parameter type T only
/// if `pred(const T&)` is true. Like an Erlang guard, the predicate must not have
/// side effects; it may be evaluated when the message arrives, on the receiver's
/// core but outside the receiver, and a predicate that throws counts as false.
template <class Pred, class Handler>
guarded_clause<std::decay_t<Pred>, std::decay_t<Handler>> when(Pred&& pred, Handler&& handler) {
  return {std::forward<Pred>(pred), std::forward<Handler>(handler)};
}

/// The timeout clause of a receive. Made by `after`.
template <class Handler>
struct after_clause {
  using handler_type = Handler;
  std::chrono::nanoseconds timeout;
  Handler handler;
};

/// `after(timeout, handler)`: if no message matches within `timeout`, the receive
/// calls `handler()` (no arguments) and returns its result. A zero timeout only
/// looks at messages already queued. Must be the last clause.
template <class Rep, class Period, class Handler>
after_clause<std::decay_t<Handler>> after(std::chrono::duration<Rep, Period> timeout,
                                          Handler&& handler) {
  return {std::chrono::ceil<std::chrono::nanoseconds>(timeout), std::forward<Handler>(handler)};
}

namespace detail {

struct always_true {
  template <class T>
  constexpr bool operator()(const T&) const noexcept {
    return true;
  }
};

template <class T, class Pred, class Handler>
struct receive_clause {
  using message_type = T;
  [[no_unique_address]] Pred pred;
  [[no_unique_address]] Handler handler;

  bool matches(envelope* e) noexcept {
    if constexpr (std::is_same_v<T, message>) {
      // Any message; but a call's reply or a gen_server request is not for a catch-all.
      if (e->tag->kind == message_kind::reply) return false;
      if constexpr (std::is_same_v<Pred, always_true>) {
        return true;
      } else {
        try {
          message view(e);
          const bool ok = static_cast<bool>(pred(static_cast<const message&>(view)));
          (void)view.release();
          return ok;
        } catch (...) {
          return false;
        }
      }
    } else {
      if (e->tag != tag_of<T>()) [[unlikely]] {
        if constexpr (decodes_from_term)
          return matches_term(e);
        else
          return false;
      }
      if constexpr (std::is_same_v<Pred, always_true>) {
        return true;
      } else {
        try {
          return static_cast<bool>(pred(static_cast<const T&>(payload<T>(e))));
        } catch (...) {
          return false; // a guard that fails to evaluate does not match
        }
      }
    }
  }

  // A message from another node arrives as a term: it matches if it decodes to
  // a T. Out of line, so that the local path's matching stays small.
  [[gnu::noinline]] bool matches_term(envelope* e) noexcept {
    if (e->tag != tag_of<term>()) return false;
    try {
      std::optional<T> value = from_term<T>(payload<term>(e));
      if (!value) return false;
      if constexpr (std::is_same_v<Pred, always_true>)
        return true;
      else
        return static_cast<bool>(pred(static_cast<const T&>(*value)));
    } catch (...) {
      return false;
    }
  }

  [[gnu::noinline]] decltype(auto) invoke_term(envelope* e) {
    envelope_guard guard{e};
    T value = *from_term<T>(payload<term>(e)); // matches() checked that it decodes
    if constexpr (std::is_invocable_v<Handler&, T&&>)
      return handler(std::move(value));
    else
      return handler(value);
  }

  static constexpr bool decodes_from_term = []() {
    if constexpr (std::is_same_v<T, message> || std::is_same_v<T, term>)
      return false;
    else
      return has_term_codec<T> && std::is_move_constructible_v<T>;
  }();

  decltype(auto) invoke(envelope* e) {
    if constexpr (std::is_same_v<T, message>) {
      return handler(message(e)); // the handler owns the envelope now
    } else {
      if constexpr (decodes_from_term) {
        if (e->tag != tag_of<T>()) [[unlikely]]
          return invoke_term(e);
      }
      envelope_guard guard{e};
      T& value = payload<T>(e);
      if constexpr (std::is_invocable_v<Handler&, T&&>) {
        return handler(std::move(value));
      } else {
        return handler(value);
      }
    }
  }
};

template <class H>
auto make_clause(H&& h) {
  using D = std::decay_t<H>;
  static_assert(traits_of<D>::known,
                "otter::receive: a handler must be a non-generic callable taking one message");
  static_assert(traits_of<D>::arity == 1, "otter::receive: a handler takes exactly one message");
  return receive_clause<message_type_of<D>, always_true, D>{{}, std::forward<H>(h)};
}

template <class P, class H>
auto make_clause(guarded_clause<P, H> g) {
  static_assert(traits_of<H>::known && traits_of<H>::arity == 1,
                "otter::when: the handler must be a non-generic callable taking one message");
  return receive_clause<message_type_of<H>, P, H>{std::move(g.pred), std::move(g.handler)};
}

template <class T>
struct is_after : std::false_type {};
template <class H>
struct is_after<after_clause<H>> : std::true_type {};

struct no_timeout {};

/// Where a receive starts looking: after a mailbox mark, or (null) at the head.
struct from_mark {
  const mailbox_mark* mark;
};

[[noreturn]] void throw_foreign_mark();

template <class Clause>
using clause_result = decltype(std::declval<Clause&>().invoke(nullptr));

/// The awaiter behind every receive. It lives in the waiting coroutine's frame;
/// while the process waits, the process's control block points at it.
template <class Timeout, class... Clauses>
class [[nodiscard("otter::receive does nothing until you co_await it")]] receive_awaiter : receive_waiter {
  using first_result = clause_result<std::tuple_element_t<0, std::tuple<Clauses...>>>;
  static_assert((std::is_same_v<first_result, clause_result<Clauses>> && ...),
                "otter::receive: all handlers must return the same type");
  static constexpr bool timed = !std::is_same_v<Timeout, no_timeout>;

  struct timeout_state {
    using handler_type = typename Timeout::handler_type;
    timeout_state(std::chrono::nanoseconds a, handler_type&& h) : after(a), handler(std::move(h)) {}
    struct node : timer_node {
      receive_awaiter* owner = nullptr;
    } timer;
    std::chrono::nanoseconds after;
    handler_type handler;
  };
  struct untimed {};

public:
  using result_type = first_result;

  explicit receive_awaiter(Clauses... clauses)
    requires(!timed)
      : clauses_(std::move(clauses)...) {}
  receive_awaiter(Timeout t, Clauses... clauses)
    requires(timed)
      : clauses_(std::move(clauses)...), timeout_(t.timeout, std::move(t.handler)) {}
  receive_awaiter(from_mark m, Clauses... clauses)
    requires(!timed)
      : mark_(m.mark), clauses_(std::move(clauses)...) {}
  receive_awaiter(from_mark m, Timeout t, Clauses... clauses)
    requires(timed)
      : mark_(m.mark), clauses_(std::move(clauses)...), timeout_(t.timeout, std::move(t.handler)) {}
  receive_awaiter(const receive_awaiter&) = delete;
  receive_awaiter& operator=(const receive_awaiter&) = delete;
  ~receive_awaiter() {
    if constexpr (timed) disarm_timer(&timeout_.timer);
    if (process_ != nullptr && (process_->flags & pcb_flag::bounded) != 0) [[unlikely]]
      unwatch_receive_scan(*process_);
  }

  /// Looks only at messages after `mark`, a link in the mailbox (a saved
  /// `mailbox_tail`): what came before cannot match. Calls use it to wait for
  /// their reply without rescanning a long mailbox.
  void start_after(envelope** mark) noexcept { start_ = mark; }

  // Inlined into the coroutine, as the local path needs: the term path below
  // (messages from other nodes) would otherwise tip the compiler into calls.
  [[gnu::always_inline]] bool await_ready() {
    process_ = &current_process("otter::receive");
    if (mark_ != nullptr) [[unlikely]] {
      if (&mark_->owner() != process_) throw_foreign_mark();
      scan_ = mark_->position();
    } else {
      scan_ = start_ != nullptr ? start_ : &process_->mailbox_head;
    }
    if ((process_->flags & pcb_flag::bounded) != 0) [[unlikely]]
      watch_receive_scan(*process_, &scan_); // drop_oldest keeps it valid
    for (envelope* e = *scan_; e != nullptr; e = *scan_) {
      if (matches(e)) {
        // Found at once. Within the budget, carry on without suspending;
        // past it, suspend so the rest of the run queue gets the core.
        return ++process_->reductions < receive_budget;
      }
      scan_ = &e->next;
    }
    if constexpr (timed) {
      if (timeout_.after.count() <= 0) {
        which_ = timed_out;
        return true;
      }
    }
    return false;
  }

  void await_suspend(std::coroutine_handle<> h) {
    process_->resume_point = h;
    if (which_ >= 0) { // budget spent: the match is kept for await_resume
      requeue(*process_);
      return;
    }
    if constexpr (timed) {
      timeout_.timer.owner = this;
      timeout_.timer.fire = &on_timeout;
      arm_timer(&timeout_.timer, timeout_.after);
    }
    this->match = &on_message;
    suspend_waiting(*process_, this);
  }

  [[gnu::always_inline]] result_type await_resume() {
    if constexpr (timed) {
      disarm_timer(&timeout_.timer);
      if (which_ == timed_out) return timeout_.handler();
    }
    if ((process_->flags & pcb_flag::bounded) != 0) [[unlikely]]
      unwatch_receive_scan(*process_);
    envelope* e = process_->take_message(scan_);
    return invoke(e, std::index_sequence_for<Clauses...>{});
  }

private:
  static constexpr int timed_out = -2;

  bool matches(envelope* e) noexcept { return match_from<0>(e); }
  template <std::size_t I>
  bool match_from(envelope* e) noexcept {
    if constexpr (I == sizeof...(Clauses)) {
      return false;
    } else {
      if (std::get<I>(clauses_).matches(e)) {
        which_ = static_cast<int>(I);
        return true;
      }
      return match_from<I + 1>(e);
    }
  }

  template <std::size_t... I>
  result_type invoke(envelope* e, std::index_sequence<I...>) {
    if constexpr (sizeof...(I) == 1) {
      return std::get<0>(clauses_).invoke(e);
    } else {
      using fn = result_type (*)(receive_awaiter&, envelope*);
      static constexpr fn table[] = {
          [](receive_awaiter& self, envelope* env) -> result_type {
            return std::get<I>(self.clauses_).invoke(env);
          }...};
      return table[which_](*this, e);
    }
  }

  // A message arrived while waiting; it is `*scan_`.
  static bool on_message(receive_waiter* w, envelope* e) noexcept {
    auto* self = static_cast<receive_awaiter*>(w);
    if (self->matches(e)) {
      if constexpr (timed) disarm_timer(&self->timeout_.timer);
      return true;
    }
    self->scan_ = &e->next;
    return false;
  }

  static void on_timeout(timer_node* t) noexcept {
    auto* self = static_cast<typename timeout_state::node*>(t)->owner;
    self->which_ = timed_out;
    self->process_->waiter = nullptr;
    wake(*self->process_);
  }

  pcb* process_ = nullptr;
  const mailbox_mark* mark_ = nullptr;
  envelope** start_ = nullptr;
  envelope** scan_ = nullptr; // link to the first envelope not yet examined
  int which_ = -1;            // matching clause, or timed_out
  std::tuple<Clauses...> clauses_;
  [[no_unique_address]] std::conditional_t<timed, timeout_state, untimed> timeout_;
};

template <class T>
struct identity_handler {
  T operator()(T&& v) const { return std::move(v); }
};
template <class R, class T>
struct variant_handler {
  R operator()(T&& v) const { return R{std::in_place_type<T>, std::move(v)}; }
};
template <class T>
struct optional_handler {
  std::optional<T> operator()(T&& v) const { return std::optional<T>{std::in_place, std::move(v)}; }
};
template <class R>
struct nullopt_handler {
  R operator()() const noexcept { return std::nullopt; }
};

template <class Tuple, std::size_t... I>
auto make_timed_receive(from_mark start, Tuple&& all, std::index_sequence<I...>) {
  using timeout = std::remove_cvref_t<std::tuple_element_t<sizeof...(I), std::remove_cvref_t<Tuple>>>;
  static_assert(
      (!is_after<std::remove_cvref_t<std::tuple_element_t<I, std::remove_cvref_t<Tuple>>>>::value && ...),
      "otter::receive: after() must be the last clause");
  return receive_awaiter<timeout, decltype(make_clause(std::get<I>(std::move(all))))...>{
      start, std::get<sizeof...(I)>(std::move(all)), make_clause(std::get<I>(std::move(all)))...};
}

template <class... Clauses>
auto make_receive(from_mark start, Clauses&&... clauses) {
  constexpr std::size_t n = sizeof...(Clauses);
  using last = std::remove_cvref_t<std::tuple_element_t<n - 1, std::tuple<Clauses...>>>;
  if constexpr (is_after<last>::value) {
    static_assert(n > 1, "otter::receive: after() needs at least one message clause");
    return make_timed_receive(start, std::forward_as_tuple(std::forward<Clauses>(clauses)...),
                              std::make_index_sequence<n - 1>{});
  } else {
    static_assert((!is_after<std::remove_cvref_t<Clauses>>::value && ...),
                  "otter::receive: after() must be the last clause");
    return receive_awaiter<no_timeout, decltype(make_clause(std::forward<Clauses>(clauses)))...>{
        start, make_clause(std::forward<Clauses>(clauses))...};
  }
}

template <class T>
inline constexpr bool is_mark = std::is_same_v<std::remove_cvref_t<T>, mailbox_mark>;

} // namespace detail

/// Selective receive. Waits for the first message in the mailbox, in arrival
/// order, that matches any clause; runs that clause's handler with the message
/// and returns the handler's result. Messages that match no clause stay queued,
/// in order, for later receives.
///
/// A clause is a callable taking one message (matched by its parameter's type),
/// `when(pred, handler)`, or — last — `after(timeout, handler)`:
///
/// ```
/// co_await otter::receive(
///     [](const ping& p) { otter::send(p.from, pong{}); },
///     otter::when([](int n) { return n > 0; }, [](int n) { std::cout << n; }),
///     otter::after(100ms, [] { std::cout << "nothing\n"; }));
/// ```
///
/// Resumes on the process's own core. What a receive costs: when it starts, it
/// examines the queued messages from the oldest on, as Erlang's receive does;
/// while it waits, each message that arrives is examined once, on arrival, and
/// the mailbox is not scanned again. So a receive that skips N queued messages
/// costs N match tests each time it starts; `receive(mark, ...)` (below) starts
/// after a `mailbox_mark` instead, which is how to wait cheaply for the answer
/// to a request behind a long queue. A process that keeps finding messages
/// waiting is sent to the back of its run queue every `detail::receive_budget`
/// receives. If the process is killed while waiting, the receive is abandoned:
/// its timer is cancelled and the message stays unconsumed.
template <class... Clauses>
  requires(sizeof...(Clauses) > 0 && !detail::is_mark<std::tuple_element_t<0, std::tuple<Clauses...>>>)
auto receive(Clauses&&... clauses) {
  return detail::make_receive(detail::from_mark{nullptr}, std::forward<Clauses>(clauses)...);
}

/// As above, but looks only at the messages that arrived after `mark` was made
/// (see mailbox_mark.hpp): the messages queued before it are not examined and
/// stay queued. `mark` must belong to the calling process (std::logic_error
/// otherwise) and must outlive the receive.
template <class... Clauses>
  requires(sizeof...(Clauses) > 0)
auto receive(const mailbox_mark& mark, Clauses&&... clauses) {
  return detail::make_receive(detail::from_mark{&mark}, std::forward<Clauses>(clauses)...);
}

/// Receives the first queued message of type T and returns it; with several
/// types, the first message of any of them, as a `std::variant<T...>`.
template <class... T>
  requires(sizeof...(T) > 0)
auto receive() {
  if constexpr (sizeof...(T) == 1) {
    using U = std::tuple_element_t<0, std::tuple<T...>>;
    return detail::receive_awaiter<detail::no_timeout,
                                   detail::receive_clause<U, detail::always_true, detail::identity_handler<U>>>{
        detail::receive_clause<U, detail::always_true, detail::identity_handler<U>>{}};
  } else {
    using R = std::variant<T...>;
    return detail::receive_awaiter<detail::no_timeout,
                                   detail::receive_clause<T, detail::always_true, detail::variant_handler<R, T>>...>{
        detail::receive_clause<T, detail::always_true, detail::variant_handler<R, T>>{}...};
  }
}

/// Receives the first message of type T, or `std::nullopt` after `timeout`.
template <class T, class Rep, class Period>
auto receive(std::chrono::duration<Rep, Period> timeout) {
  using R = std::optional<T>;
  using clause = detail::receive_clause<T, detail::always_true, detail::optional_handler<T>>;
  using timeout_clause = after_clause<detail::nullopt_handler<R>>;
  return detail::receive_awaiter<timeout_clause, clause>{
      timeout_clause{std::chrono::ceil<std::chrono::nanoseconds>(timeout), {}}, clause{{}, {}}};
}

} // namespace otter
