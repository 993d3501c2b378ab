#pragma once
// otter::supervisor — OTP's supervisor: starts children, watches them, and
// restarts them by a strategy, within a restart intensity.

#include <otter/detail/config.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <otter/detail/callable_traits.hpp>
#include <otter/gen_server.hpp>
#include <otter/link.hpp>
#include <otter/pid.hpp>
#include <otter/result.hpp>
#include <otter/spawn.hpp>
#include <otter/task.hpp>

namespace otter {

/// When a child is restarted: always (`permanent`), only after an abnormal
/// exit — not `normal`, `shutdown` or `{shutdown, _}` — (`transient`), or never
/// (`temporary`; its spec is removed when it exits).
enum class restart_type { permanent, transient, temporary };

/// A worker, or a supervisor (which matters for count_children and the default shutdown).
enum class child_type { worker, supervisor };

/// How a child is stopped: `brutal_kill` (exit(child, kill)), `after(t)`
/// (exit(child, shutdown), then kill if it has not exited within t), or
/// `infinity` (exit(child, shutdown) and wait; the default for supervisors).
class shutdown_spec {
public:
  enum class kind { brutal_kill, timeout, infinity };
  static shutdown_spec brutal_kill() noexcept { return shutdown_spec(kind::brutal_kill, {}); }
  static shutdown_spec after(std::chrono::milliseconds t) noexcept { return shutdown_spec(kind::timeout, t); }
  static shutdown_spec infinity() noexcept { return shutdown_spec(kind::infinity, {}); }
  kind get_kind() const noexcept { return kind_; }
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }

private:
  shutdown_spec(kind k, std::chrono::milliseconds t) noexcept : kind_(k), timeout_(t) {}
  kind kind_;
  std::chrono::milliseconds timeout_;
};

/// The extra arguments `supervisor::start_child` gives a simple_one_for_one child.
class child_args {
public:
  child_args() = default;
  template <class... A>
  static child_args of(A&&... args) {
    child_args c;
    c.box_ = std::make_unique<holder<std::tuple<std::decay_t<A>...>>>(std::forward<A>(args)...);
    return c;
  }
  /// The arguments if they are exactly a `std::tuple<T...>` of these types, else null.
  template <class Tuple>
  Tuple* get() noexcept {
    return box_ && box_->type() == typeid(Tuple) ? &static_cast<holder<Tuple>*>(box_.get())->value : nullptr;
  }
  explicit operator bool() const noexcept { return box_ != nullptr; }

private:
  struct base {
    virtual ~base() = default;
    virtual const std::type_info& type() const noexcept = 0;
  };
  template <class T>
  struct holder final : base {
    template <class... A>
    explicit holder(A&&... a) : value(std::forward<A>(a)...) {}
    const std::type_info& type() const noexcept override { return typeid(T); }
    T value;
  };
  std::unique_ptr<base> box_;
};

/// How to start and restart one child. Build it with `worker`, `server` or
/// `supervisor`, then adjust: `child_spec::worker("db", db_main).restart(restart_type::transient)`.
class child_spec {
public:
  /// Starts the child linked to the calling process (the supervisor) and
  /// returns its pid, a null pid for "ignore", or the reason it failed.
  using start_function = std::function<task<result<pid>>(child_args&)>;

  child_spec(std::string id, start_function start, child_type type = child_type::worker)
      : id_(std::move(id)), start_(std::move(start)), type_(type),
        shutdown_(type == child_type::supervisor ? shutdown_spec::infinity()
                                                 : shutdown_spec::after(std::chrono::milliseconds(5000))) {}

  /// A process running `f(args..., extra...)`, linked to the supervisor. `f`
  /// and `args` are copied for each start and restart, so they must be
  /// copyable (a compile-time error says so otherwise). The parameters of `f`
  /// beyond `args` are a simple_one_for_one child's extra arguments, given to
  /// `supervisor::start_child` (copied for each restart too, or moved if
  /// move-only: give those to temporary children).
  template <class F, class... A>
    requires(!std::same_as<F, spawn_options>)
  static child_spec worker(std::string id, F f, A... args);
  /// As above, placed as `where` says (another core, spread).
  template <class F, class... A>
  static child_spec worker(std::string id, spawn_options where, F f, A... args);

  /// A gen_server `Server` started with `gen_server::start_link<Server>(args...)`;
  /// `args` are copied for each start and restart, so they must be copyable.
  template <class Server, class... A>
  static child_spec server(std::string id, A... args);

  const std::string& id() const noexcept { return id_; }
  child_type type() const noexcept { return type_; }
  restart_type restart() const noexcept { return restart_; }
  const shutdown_spec& shutdown() const noexcept { return shutdown_; }
  const start_function& start() const noexcept { return start_; }

  child_spec& restart(restart_type r) {
    restart_ = r;
    return *this;
  }
  child_spec& shutdown(shutdown_spec s) {
    shutdown_ = s;
    return *this;
  }

private:
  std::string id_;
  start_function start_;
  child_type type_;
  restart_type restart_ = restart_type::permanent;
  shutdown_spec shutdown_;
};

/// The restart strategy: restart only the child that exited (`one_for_one`),
/// all children (`one_for_all`), the child and those started after it
/// (`rest_for_one`), or, for many identical children started on demand from
/// one spec, only that child (`simple_one_for_one`).
enum class restart_strategy { one_for_one, one_for_all, rest_for_one, simple_one_for_one };

/// A supervisor's strategy and restart intensity: if more than `intensity`
/// restarts happen within `period`, the supervisor stops all its children and
/// exits with reason `shutdown` (and its own supervisor takes it from there).
struct supervisor_flags {
  restart_strategy strategy = restart_strategy::one_for_one;
  int intensity = 1;
  std::chrono::milliseconds period{5000};
};

/// One line of `which_children`.
struct child_info {
  std::string id; ///< empty for simple_one_for_one children
  otter::pid pid; ///< null if not running
  child_type type;
  restart_type restart;
};

/// What `count_children` returns.
struct child_counts {
  std::size_t specs = 0;
  std::size_t active = 0;
  std::size_t supervisors = 0;
  std::size_t workers = 0;
};

namespace supervisor {

/// Starts a supervisor linked to the caller: it traps exits, then starts the
/// children in order, each linked to it. If a child fails to start, the ones
/// already started are stopped in reverse order and the start fails with
/// `{shutdown, "failed_to_start_child <id>: <reason>"}`. With `name`, the
/// supervisor is registered. Children are stopped in reverse order when the
/// supervisor stops.
task<result<pid>> start_link(supervisor_flags flags, std::vector<child_spec> children, std::string name = {},
                             spawn_options where = {});

/// A child spec for a nested supervisor (running where `where` says).
child_spec spec(std::string id, supervisor_flags flags, std::vector<child_spec> children, spawn_options where = {});

/// Adds and starts a child (not for simple_one_for_one). Fails with
/// `already_present` if a child has that id.
task<result<pid>> start_child(pid sup, child_spec spec);

/// simple_one_for_one: starts a child from the supervisor's only spec with
/// these extra arguments appended.
task<result<pid>> start_child_with(pid sup, child_args args);
template <class... A>
task<result<pid>> start_child(pid sup, A&&... extra) {
  return start_child_with(sup, child_args::of(std::forward<A>(extra)...));
}

/// Stops a child; its spec stays (for restart_child), except for temporary children.
task<result<void>> terminate_child(pid sup, std::string id);
/// simple_one_for_one: stops the child with this pid (and forgets it).
task<result<void>> terminate_child(pid sup, pid child);
/// Starts again a child that was stopped by terminate_child.
task<result<pid>> restart_child(pid sup, std::string id);
/// Removes the spec of a stopped child.
task<result<void>> delete_child(pid sup, std::string id);
/// Every child, in start order.
task<std::vector<child_info>> which_children(pid sup);
task<child_counts> count_children(pid sup);

} // namespace supervisor

// ---------------------------------------------------------------- templates

namespace detail::sup {

template <class T>
decltype(auto) copy_or_move(T& v) {
  if constexpr (std::is_copy_constructible_v<T>)
    return static_cast<const T&>(v);
  else
    return std::move(v);
}

inline task<result<pid>> ready(result<pid> r) { co_return r; }

template <class F, std::size_t Fixed>
struct extra_params {
  using type = std::tuple<>;
};
template <class F, std::size_t Fixed>
  requires(traits_of<F>::known)
struct extra_params<F, Fixed> {
  using all = typename traits_of<F>::args;
  template <std::size_t... I>
  static auto pick(std::index_sequence<I...>)
      -> std::tuple<std::remove_cvref_t<std::tuple_element_t<Fixed + I, all>>...>;
  using type = decltype(pick(std::make_index_sequence<std::tuple_size_v<all> - Fixed>{}));
};

exit_reason mismatched_arguments();

template <class S, class... A>
task<result<pid>> start_server_child(A... args) {
  auto r = co_await gen_server::start_link<S>(std::move(args)...);
  if (!r) co_return result<pid>(r.error());
  co_return result<pid>(r->pid());
}

} // namespace detail::sup

template <class F, class... A>
  requires(!std::same_as<F, spawn_options>)
child_spec child_spec::worker(std::string id, F f, A... args) {
  return worker(std::move(id), spawn_options{}, std::move(f), std::move(args)...);
}

template <class F, class... A>
child_spec child_spec::worker(std::string id, spawn_options where, F f, A... args) {
  constexpr bool copyable = std::is_copy_constructible_v<F> && (std::is_copy_constructible_v<A> && ...);
  static_assert(copyable,
                "otter::child_spec::worker: the function and arguments of a worker are copied for each start "
                "and restart, so they must be copyable; share a move-only resource through a std::shared_ptr, "
                "create it inside the worker, or give it to a temporary simple_one_for_one child as an extra "
                "argument of supervisor::start_child");
  constexpr bool fits = !detail::traits_of<F>::known || sizeof...(A) <= detail::traits_of<F>::arity;
  static_assert(fits, "otter::child_spec::worker: more arguments than the function has parameters");
  if constexpr (copyable && fits) {
    using extras = typename detail::sup::extra_params<F, sizeof...(A)>::type;
    return child_spec(std::move(id), [where, f, args...](child_args& extra) -> task<result<pid>> {
      if constexpr (std::tuple_size_v<extras> == 0) {
        return detail::sup::ready(spawn_link(where, f, args...));
      } else {
        extras* given = extra.get<extras>();
        if (given == nullptr) return detail::sup::ready(detail::sup::mismatched_arguments());
        return detail::sup::ready(std::apply(
            [&](auto&... e) { return spawn_link(where, f, args..., detail::sup::copy_or_move(e)...); }, *given));
      }
    });
  } else {
    return child_spec(std::move(id), start_function{});
  }
}

template <class Server, class... A>
child_spec child_spec::server(std::string id, A... args) {
  constexpr bool copyable = (std::is_copy_constructible_v<A> && ...);
  static_assert(copyable,
                "otter::child_spec::server: the start arguments of a server child are copied for each start "
                "and restart, so they must be copyable; share a move-only resource through a std::shared_ptr, "
                "or create it in the server's init");
  if constexpr (copyable) {
    return child_spec(std::move(id),
                      [args...](child_args&) { return detail::sup::start_server_child<Server>(args...); });
  } else {
    return child_spec(std::move(id), start_function{});
  }
}

} // namespace otter
