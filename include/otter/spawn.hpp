#pragma once
// otter::spawn — start a new process.

#include <otter/detail/config.hpp>

#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include <otter/detail/callable_traits.hpp>
#include <otter/mailbox_limit.hpp>
#include <otter/pid.hpp>
#include <otter/process.hpp>
#include <otter/ref.hpp>

namespace otter {

/// Where and how a new process starts.
struct spawn_options {
  enum class placement : std::uint8_t {
    caller,    ///< on the spawning process's scheduler (Erlang's default)
    scheduler, ///< on the scheduler numbered `scheduler`
    spread,    ///< on the node's schedulers in turn, round-robin
  };
  placement where = placement::caller;
  unsigned scheduler = 0;
  /// Link the new process to the caller before it runs (spawn_link).
  bool link = false;
  /// Monitor the new process before it runs (spawn_monitor).
  bool monitor = false;
  /// A bound on the new process's mailbox, in force before anyone can send to
  /// it (see otter/mailbox_limit.hpp). Unbounded by default.
  mailbox_limit mailbox{};
};

/// Options that start the process on scheduler `index` (taken modulo the node's count).
inline spawn_options on_scheduler(unsigned index) noexcept {
  spawn_options o;
  o.where = spawn_options::placement::scheduler;
  o.scheduler = index;
  return o;
}
/// Options that spread successive processes across the node's schedulers.
inline spawn_options spread() noexcept {
  spawn_options o;
  o.where = spawn_options::placement::spread;
  return o;
}

namespace detail {

/// A process coroutine, created but not started, with whatever it needs kept alive.
struct prepared_process {
  process body;
  void* owned = nullptr;
  void (*owned_delete)(void*) noexcept = nullptr;
};

template <class F, class... A>
struct spawn_box {
  F fn;
  std::tuple<A...> args;
  static void destroy(void* p) noexcept { delete static_cast<spawn_box*>(p); }
};

template <class R>
inline constexpr bool spawn_result_ok = std::is_same_v<R, process>;

template <class F, class... A>
prepared_process prepare_process(F&& f, A&&... args) {
  using D = std::decay_t<F>;
  // A coroutine keeps its parameters but not the callable it was called on nor
  // what reference parameters refer to. Plain functions and capture-less lambdas
  // taking values are called directly; anything else is kept in a box that lives
  // as long as the process.
  constexpr bool stateless = std::is_pointer_v<D> || std::is_empty_v<D>;
  constexpr bool direct = stateless && takes_all_by_value<D>();
  // The box's members are passed as rvalues if the function takes them so, else as lvalues.
  constexpr bool boxed_rvalues = std::is_invocable_v<D&, std::decay_t<A>&&...>;
  constexpr bool invocable = direct ? std::is_invocable_v<D&, A&&...>
                                    : boxed_rvalues || std::is_invocable_v<D&, std::decay_t<A>&...>;
  static_assert(invocable,
                "otter::spawn: the arguments do not match the function's parameters (their number or types)");
  if constexpr (!invocable) {
    std::terminate(); // never runs: the static_assert failed the build
  } else if constexpr (direct) {
    static_assert(spawn_result_ok<std::invoke_result_t<D&, A&&...>>,
                  "otter::spawn: the function must return otter::process (a coroutine body), not this type");
    if constexpr (spawn_result_ok<std::invoke_result_t<D&, A&&...>>)
      return prepared_process{std::invoke(f, std::forward<A>(args)...)};
    else
      std::terminate();
  } else {
    using R = std::conditional_t<boxed_rvalues, std::invoke_result<D&, std::decay_t<A>&&...>,
                                 std::invoke_result<D&, std::decay_t<A>&...>>;
    static_assert(spawn_result_ok<typename R::type>,
                  "otter::spawn: the function must return otter::process (a coroutine body), not this type");
    if constexpr (!spawn_result_ok<typename R::type>) {
      std::terminate();
    } else {
      using box = spawn_box<D, std::decay_t<A>...>;
      auto b = std::make_unique<box>(box{std::forward<F>(f), {std::forward<A>(args)...}});
      // The box outlives the process, so its members may be bound to reference
      // parameters; by-value parameters move them out (the call happens once).
      process body = std::apply(
          [&b](auto&... xs) {
            if constexpr (boxed_rvalues)
              return std::invoke(b->fn, std::move(xs)...);
            else
              return std::invoke(b->fn, xs...);
          },
          b->args);
      return prepared_process{std::move(body), b.release(), &box::destroy};
    }
  }
}

struct started_process {
  pid id;
  ref monitor; // when spawned with options.monitor
};

/// Gives the prepared process a pid, sets up the requested link or monitor,
/// and queues it on its scheduler.
started_process start_process(prepared_process&& p, spawn_options options);

} // namespace detail

/// Starts `f(args...)` as a new process and returns its pid at once; the new
/// process runs later, when its scheduler gets to it. `f` returns otter::process.
/// Arguments are moved or copied into the process, never referenced.
///
/// By default the process runs on the caller's scheduler (core); `options`
/// can choose another (`on_scheduler(i)`) or spread processes (`spread()`).
/// Must be called on one of the node's threads, normally from a process; from
/// other threads use node::run. Throws std::length_error if the scheduler's
/// process table is full. A function that does not return otter::process, or
/// cannot take the arguments, is a compile-time error saying which.
template <class F, class... A>
  requires(!std::same_as<std::remove_cvref_t<F>, spawn_options>)
pid spawn(F&& f, A&&... args) {
  return detail::start_process(detail::prepare_process(std::forward<F>(f), std::forward<A>(args)...),
                               spawn_options{})
      .id;
}

/// As above, placed as `options` say.
template <class F, class... A>
pid spawn(spawn_options options, F&& f, A&&... args) {
  return detail::start_process(detail::prepare_process(std::forward<F>(f), std::forward<A>(args)...),
                               options)
      .id;
}

} // namespace otter
