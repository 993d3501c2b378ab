#pragma once
// otter::gen_server — OTP's generic server: a process holding state, answering
// calls, taking casts, with typed requests checked at compile time.

#include <otter/detail/config.hpp>

#include <chrono>
#include <concepts>
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <otter/detail/gen_server_call.hpp>
#include <otter/detail/gen_server_checks.hpp>
#include <otter/detail/gen_server_impl.hpp>
#include <otter/detail/gen_server_remote.hpp>
#include <otter/dist/codec.hpp>
#include <otter/dist/node.hpp>
#include <otter/dist/term.hpp>
#include <otter/link.hpp>
#include <otter/mailbox_mark.hpp>
#include <otter/message.hpp>
#include <otter/monitor.hpp>
#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/registry.hpp>
#include <otter/result.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/task.hpp>

namespace otter {

/// A handle to a gen_server whose class is `Server`: requests sent through it
/// are checked against Server's handlers at compile time. Holds a pid, or a
/// registered name looked up at each use.
template <class Server>
class server_ref {
public:
  server_ref() = default;
  explicit server_ref(otter::pid p) : pid_(p) {}
  /// The server registered as `name`, looked up at each call or cast.
  static server_ref named(std::string name) {
    server_ref r;
    r.name_ = std::make_shared<const std::string>(std::move(name));
    return r;
  }
  /// The pid now: the held one, or the one registered under the name (null if none).
  otter::pid pid() const { return name_ ? whereis(*name_) : pid_; }
  explicit operator bool() const noexcept { return pid_ || name_; }

private:
  otter::pid pid_;
  std::shared_ptr<const std::string> name_;
};

namespace gen_server {

/// A timeout that never expires.
inline constexpr std::chrono::nanoseconds infinity = std::chrono::nanoseconds::max();
/// The default timeout of calls, as in OTP.
inline constexpr std::chrono::milliseconds default_timeout{5000};

/// Where a deferred reply goes. A handler `void handle_call(Req, reply_to<R>)`
/// (R is `Req::reply_type`) may keep it and reply later, from any handler of
/// the same server, or at once. Replying twice sends two replies; the caller
/// takes the first. For a call from another node (see gen_server::remote) the
/// reply goes back as the term `{Tag, to_term(value)}`.
template <class R>
class reply_to {
public:
  reply_to(otter::pid caller, ref tag) : caller_(caller), tag_(tag) {}
  /// A caller on another node, who waits for `{tag, Reply}`.
  reply_to(otter::pid caller, std::shared_ptr<const term> remote_tag)
      : caller_(caller), remote_tag_(std::move(remote_tag)) {}
  void reply(R value) const {
    if constexpr (has_term_codec<R>) {
      if (remote_tag_) [[unlikely]] {
        detail::gs::send_remote_reply(caller_, *remote_tag_, detail::gs::remote_reply_term(value));
        return;
      }
    }
    detail::gs::send_reply(caller_, tag_, std::move(value));
  }
  otter::pid caller() const noexcept { return caller_; }

private:
  otter::pid caller_;
  ref tag_;
  std::shared_ptr<const term> remote_tag_; // set only for callers on other nodes
};
template <>
class reply_to<void> {
public:
  reply_to(otter::pid caller, ref tag) : caller_(caller), tag_(tag) {}
  /// A caller on another node, who waits for `{tag, ok}`.
  reply_to(otter::pid caller, std::shared_ptr<const term> remote_tag)
      : caller_(caller), remote_tag_(std::move(remote_tag)) {}
  void reply() const {
    if (remote_tag_) [[unlikely]]
      detail::gs::send_remote_reply(caller_, *remote_tag_, detail::gs::remote_reply_term(detail::gs::no_value{}));
    else
      detail::gs::send_reply(caller_, tag_, detail::gs::no_value{});
  }
  otter::pid caller() const noexcept { return caller_; }

private:
  otter::pid caller_;
  ref tag_;
  std::shared_ptr<const term> remote_tag_; // set only for callers on other nodes
};

/// What `init` may return besides void: `ignore` starts nothing (the start
/// succeeds with a null server, and the process exits normally).
enum class init_result { ok, ignore };

/// The message types a server's handle_info overloads take, declared in the
/// server class: `using info_types = otter::gen_server::info<tick, otter::down_message>;`.
///
/// A single `handle_info(T)` (or `const T&`, `T&&`) needs no list: otter reads
/// T from its signature. Overloads (or a template) do, as C++ cannot enumerate
/// an overload set. A message that is exactly one of the listed types (by type
/// tag, as receive matches) goes to the handle_info taking it, the first listed
/// type first; any other goes to `handle_info(otter::message)` if the server
/// has one, and is dropped otherwise. Calls, casts and call replies never reach
/// handle_info. A handle_info may be a coroutine (return otter::task<>); the
/// message stays alive until it returns.
template <class... T>
struct info {};

/// The request types that callers on other nodes may send, declared in the
/// server class: `using remote_requests = otter::gen_server::remote<add, get>;`.
///
/// Each type needs a term codec (otter/dist/codec.hpp), and so does the reply
/// type of each one the server has a handle_call for; a missing codec is a
/// compile-time error naming the type. An Erlang `gen_server:call(Server, Req)`
/// arrives as the term `{'$gen_call', {Pid, Tag}, Req}`: the first listed type
/// with a handle_call that Req decodes to runs that handle_call, exactly as a
/// local call would (a deferred reply_to too), and the reply goes to Pid as
/// `{Tag, to_term(Reply)}` (`{Tag, ok}` for a handler returning void).
/// `gen_server:cast(Server, Req)` arrives as `{'$gen_cast', Req}` and runs the
/// handle_cast of the first listed type with one that Req decodes to.
///
/// A call or cast whose request decodes to no listed type stops the server,
/// as a missing clause does in OTP: exit reason `{function_clause, "..."}`
/// (exit_reason::error("function_clause", ...)), which the caller's monitor
/// reports to it. Any other term goes to handle_info as before. Without
/// remote_requests, `'$gen_call'` terms are ordinary terms for handle_info.
template <class... T>
struct remote {};

/// From inside a handler: stop the server with `reason` once the handler has
/// returned (a call's reply is sent first). `terminate(reason)` runs, then the
/// process exits with `reason`.
void stop_self(exit_reason reason = exit_reason::normal());

/// How to start a server: `start_options().named("db").placed(otter::spread())`.
///
/// (Not an aggregate on purpose: g++ 12 miscompiles aggregate temporaries that
/// own memory when they appear in a co_await expression; see docs/gcc12.md.)
struct start_options {
  start_options() noexcept {}
  start_options& named(std::string n) {
    name = std::move(n);
    return *this;
  }
  start_options& placed(spawn_options where) {
    spawn = where;
    return *this;
  }
  start_options& init_timeout(std::chrono::nanoseconds t) {
    timeout = t;
    return *this;
  }

  std::string name;                            ///< register the server under this name
  spawn_options spawn{};                       ///< where to run it
  std::chrono::nanoseconds timeout = infinity; ///< how long init may take
};

} // namespace gen_server

namespace detail::gs {

struct start_ack {
  ref tag;
  bool ok;
  bool ignored;
  exit_reason error;
};

/// Runs the server's terminate, if it has one: terminate(reason) or
/// terminate(), either of which may be a coroutine. Whatever it throws is
/// ignored: the server is going down anyway.
template <class S>
task<> call_terminate(S& s, exit_reason reason) {
  if constexpr (requires { s.terminate(reason); }) {
    try {
      if constexpr (is_task<decltype(s.terminate(reason))>::value)
        co_await s.terminate(reason);
      else
        s.terminate(reason);
    } catch (...) {
    }
  } else if constexpr (requires { s.terminate(); }) {
    try {
      if constexpr (is_task<decltype(s.terminate())>::value)
        co_await s.terminate();
      else
        s.terminate();
    } catch (...) {
    }
  }
}

// The invoke_* functions run a request's handler; they never own the request:
// the server loop's message does, until the handler (a coroutine one too) has
// finished, or the server's frame is destroyed because it was killed.

template <class S, class Req>
void invoke_call(void* server, request* r, request_context& ctx) {
  S& s = *static_cast<S*>(server);
  auto* req = static_cast<request_of<Req>*>(r);
  using R = typename reply_type_of<S, Req>::type;
  using W = std::conditional_t<std::is_void_v<R>, no_value, R>;
  if constexpr (requires { s.handle_call(std::move(req->payload), gen_server::reply_to<R>(r->from, r->call_tag)); }) {
    // Deferred: the handler replies through reply_to, now or later.
    using H = decltype(s.handle_call(std::move(req->payload), gen_server::reply_to<R>(r->from, r->call_tag)));
    if constexpr (is_task<H>::value) {
      ctx.pending.emplace(s.handle_call(std::move(req->payload), gen_server::reply_to<R>(r->from, r->call_tag)));
    } else {
      s.handle_call(std::move(req->payload), gen_server::reply_to<R>(r->from, r->call_tag));
    }
  } else {
    using H = decltype(s.handle_call(std::move(req->payload)));
    if constexpr (is_task<H>::value) {
      ctx.pending.emplace([](S& srv, request* rq) -> task<> {
        auto* q = static_cast<request_of<Req>*>(rq);
        if constexpr (std::is_void_v<R>) {
          co_await srv.handle_call(std::move(q->payload));
          send_reply(rq->from, rq->call_tag, no_value{});
        } else {
          W value = co_await srv.handle_call(std::move(q->payload));
          send_reply(rq->from, rq->call_tag, std::move(value));
        }
      }(s, r));
    } else {
      if constexpr (std::is_void_v<R>) {
        s.handle_call(std::move(req->payload));
        send_reply(r->from, r->call_tag, no_value{});
      } else {
        send_reply(r->from, r->call_tag, W(s.handle_call(std::move(req->payload))));
      }
    }
  }
}

template <class S, class Msg>
void invoke_cast(void* server, request* r, request_context& ctx) {
  S& s = *static_cast<S*>(server);
  auto* req = static_cast<request_of<Msg>*>(r);
  using H = decltype(s.handle_cast(std::move(req->payload)));
  if constexpr (is_task<H>::value) {
    ctx.pending.emplace(s.handle_cast(std::move(req->payload)));
  } else {
    s.handle_cast(std::move(req->payload));
  }
}

inline void invoke_stop(void*, request* r, request_context& ctx) {
  ctx.stop = true;
  ctx.stop_reason = static_cast<request_of<exit_reason>*>(r)->payload;
}

/// Ends the calling process with `reason` when its body returns (no unwinding).
void exit_when_done(exit_reason reason);

std::optional<exit_reason> register_for_server(const std::string& name);
/// Where the calling server process keeps the context of the request it is
/// serving (for stop_self); it lives as long as the process.
request_context** request_slot();
exit_reason current_exception_reason() noexcept;
exit_reason current_exception_reason(std::exception_ptr e) noexcept;

template <class S, class... A>
process server_main(pid starter, ref start_tag, bool linked, std::string name, A... args) {
  std::optional<S> server;
  bool ignored = false;
  std::optional<exit_reason> failure;
  try {
    if constexpr (has_init<S, A...>) {
      server.emplace();
      using I = decltype(server->init(std::move(args)...));
      if constexpr (is_task<I>::value) {
        if constexpr (std::is_void_v<typename is_task<I>::value_type>) {
          co_await server->init(std::move(args)...);
        } else {
          ignored = (co_await server->init(std::move(args)...)) == gen_server::init_result::ignore;
        }
      } else if constexpr (std::is_void_v<I>) {
        server->init(std::move(args)...);
      } else {
        ignored = server->init(std::move(args)...) == gen_server::init_result::ignore;
      }
    } else {
      server.emplace(std::move(args)...); // (check_init has made sure S has no init)
    }
  } catch (...) {
    failure = current_exception_reason();
  }
  if (!failure && !ignored && !name.empty()) failure = register_for_server(name);
  if (failure || ignored) {
    // Tell the starter without taking it down through the link.
    if (linked) unlink(starter);
    send(starter, start_ack{start_tag, !failure, ignored, failure.value_or(exit_reason::normal())});
    if (failure) exit_when_done(*failure);
    co_return;
  }
  send(starter, start_ack{start_tag, true, false, {}});

  // The loop ends with the reason the server stops for, and, if a handler
  // threw, the exception, which is rethrown after terminate has run.
  exit_reason final_reason;
  std::exception_ptr crash;
  request_context** const serving = request_slot();
  for (;;) {
    // `m` owns what it holds for the whole iteration, a request included:
    // if the server is killed while a coroutine handler waits, destroying the
    // frame frees the handler's frame, then the request.
    message m = co_await receive([](message any) { return any; });
    detail::envelope* e = m.get();
    request_context ctx;
    if (e->tag->kind == message_kind::server_request) {
      auto* r = static_cast<request*>(e);
      // Compiled against another server class: refuse rather than misread it.
      if (r->server_type != &server_type_tag<S>) continue;
      *serving = &ctx;
      try {
        r->invoke(&*server, r, ctx);
        if (ctx.pending) {
          task<> t = std::move(*ctx.pending);
          ctx.pending.reset();
          co_await std::move(t);
        }
      } catch (...) {
        crash = std::current_exception();
      }
      *serving = nullptr;
    } else if (auto* x = m.get_if<exit_message>(); x != nullptr && linked && x->from == starter) {
      final_reason = x->reason; // the parent went down (we trap exits, or it would have taken us along)
      break;
    } else {
      // Any other message goes to the handle_info that takes it, or is
      // dropped: `m` is destroyed at the end of this iteration, after a
      // coroutine handler, which may refer to it, has finished.
      *serving = &ctx;
      try {
        std::optional<task<>> pending;
        bool taken = false;
        if constexpr (serves_remote<S>) {
          // A call or cast from another node arrives as a term (only servers that list remote_requests look).
          if (e->tag == tag_of<term>()) [[unlikely]]
            taken = deliver_remote(*server, payload<term>(e), pending);
        }
        if (!taken) pending = deliver_info(*server, m);
        if (pending) {
          task<> t = std::move(*pending);
          pending.reset();
          co_await std::move(t);
        }
      } catch (...) {
        crash = std::current_exception();
      }
      *serving = nullptr;
    }
    if (crash) {
      final_reason = current_exception_reason(crash);
      break;
    }
    if (ctx.stop) {
      final_reason = ctx.stop_reason;
      break;
    }
  }
  co_await call_terminate(*server, final_reason);
  if (crash) std::rethrow_exception(crash); // a crash: reported, and the reason carries the exception
  exit_when_done(final_reason);
}

template <class S, class... A>
task<result<server_ref<S>>> start_checked_server(bool link, gen_server::start_options options, A... args) {
  const ref tag = make_ref();
  spawn_options where = options.spawn;
  where.link = link;
  where.monitor = false;
  const pid child = spawn(where, server_main<S, A...>, self(), tag, link, options.name, std::move(args)...);
  const ref watch = monitor(child);
  struct outcome {
    bool ok;
    bool ignored;
    exit_reason error;
  };
  outcome o = co_await receive(
      when([tag](const start_ack& a) { return a.tag == tag; },
           [](start_ack a) { return outcome{a.ok, a.ignored, std::move(a.error)}; }),
      when([watch](const down_message& d) { return d.monitor == watch; },
           [](down_message d) { return outcome{false, false, std::move(d.reason)}; }),
      after(options.timeout, [] { return outcome{false, false, exit_reason::timeout()}; }));
  demonitor(watch, true);
  if (!o.ok && o.error.get_kind() == exit_reason::kind::timeout) {
    // Init took too long: the server is killed, as OTP does.
    if (link) unlink(child);
    otter::exit(child, exit_reason::kill());
  }
  if (!o.ok) co_return result<server_ref<S>>(std::move(o.error));
  co_return result<server_ref<S>>(o.ignored ? server_ref<S>() : server_ref<S>(child));
}

template <class S>
task<result<server_ref<S>>> unchecked_server() {
  co_return result<server_ref<S>>(exit_reason::noproc()); // never runs: the check failed the build
}

/// Starts S after check_server has found that it can be served (or reported why not).
template <class S, class... A>
task<result<server_ref<S>>> start_server(bool link, gen_server::start_options options, A... args) {
  if constexpr (check_server<S, A...>())
    return start_checked_server<S>(link, std::move(options), std::move(args)...);
  else
    return unchecked_server<S>();
}

} // namespace detail::gs

namespace gen_server {

/// Starts `Server` as a new process linked to the caller and waits until it
/// is initialised: the server is built from `args` by `Server::init(args...)`
/// (default-constructing it first) or, without init, by its constructor. init
/// may be a coroutine (return otter::task<>) and may return init_result. If
/// init throws (or calls otter::exit), the start fails with that reason and
/// the caller is not taken down by the link. Resumes on the caller's core.
///
/// The server's other members otter calls, if declared: `handle_info` (see
/// gen_server::info), and `terminate()` or `terminate(exit_reason)` /
/// `terminate(const exit_reason&)`, either a coroutine or not, run once when
/// the server stops. A member of one of these names that otter cannot call —
/// an init that does not take `args`, a terminate with other parameters, an
/// overloaded handle_info without info_types — is a compile-time error naming
/// the fix, never a handler silently left out.
template <class Server, class... A>
  requires((sizeof...(A) == 0) || !std::same_as<std::remove_cvref_t<std::tuple_element_t<0, std::tuple<A..., void>>>, start_options>)
task<result<server_ref<Server>>> start_link(A&&... args) {
  return detail::gs::start_server<Server>(true, start_options{}, std::decay_t<A>(std::forward<A>(args))...);
}
/// As above, with a registered name, a placement or an init timeout.
template <class Server, class... A>
task<result<server_ref<Server>>> start_link(start_options options, A&&... args) {
  return detail::gs::start_server<Server>(true, std::move(options), std::decay_t<A>(std::forward<A>(args))...);
}
/// Starts `Server` without a link.
template <class Server, class... A>
task<result<server_ref<Server>>> start(start_options options, A&&... args) {
  return detail::gs::start_server<Server>(false, std::move(options), std::decay_t<A>(std::forward<A>(args))...);
}

/// Calls the server: sends `request` and waits for the reply of the matching
/// `Server::handle_call`. Throws otter::call_error with reason `noproc` if the
/// server does not exist, `timeout` if no reply came within `timeout` (a late
/// reply is dropped, it never reaches the caller's mailbox), or the server's
/// exit reason if it died during the call. A server calling itself fails at
/// once with `calling_self`, without sending anything. Resumes on the
/// caller's core; if the caller is killed while waiting, the reply (if any)
/// is dropped on arrival. A request type the server has no handle_call for is
/// a compile-time error.
template <class Server, class Req>
auto call(const server_ref<Server>& server, Req&& request,
          std::chrono::nanoseconds timeout = default_timeout) {
  using R = std::decay_t<Req>;
  if constexpr (detail::gs::check_call<Server, R>())
    return detail::gs::call_awaiter<Server, R, true>(server, R(std::forward<Req>(request)), timeout);
  else
    return detail::gs::unchecked_call{};
}

/// As `call`, but returns otter::result<Reply> instead of throwing.
template <class Server, class Req>
auto try_call(const server_ref<Server>& server, Req&& request,
              std::chrono::nanoseconds timeout = default_timeout) {
  using R = std::decay_t<Req>;
  if constexpr (detail::gs::check_call<Server, R>())
    return detail::gs::call_awaiter<Server, R, false>(server, R(std::forward<Req>(request)), timeout);
  else
    return detail::gs::unchecked_call{};
}

/// Sends `message` to the server's matching `handle_cast` and returns at once.
/// Like send, never fails: a cast to a dead server is dropped. A message type
/// the server has no handle_cast for is a compile-time error.
template <class Server, class Msg>
void cast(const server_ref<Server>& server, Msg&& message) {
  using M = std::decay_t<Msg>;
  if constexpr (detail::gs::check_cast<Server, M>()) {
    auto* r = detail::gs::make_request<M>(std::forward<Msg>(message));
    r->invoke = &detail::gs::invoke_cast<Server, M>;
    r->server_type = &detail::gs::server_type_tag<Server>;
    r->from = self();
    r->kind = detail::gs::request_kind::cast;
    detail::send_envelope(server.pid(), r);
  }
}

/// Not a server: call, try_call and cast take the `server_ref<Server>` that
/// start_link returned (or `server_ref<Server>(pid)`, `server_ref<Server>::named(name)`),
/// which is what lets the request be checked against Server's handlers.
template <class Server = void, class Req>
detail::gs::unchecked_call call(otter::pid, Req&&, std::chrono::nanoseconds = default_timeout) {
  static_assert(detail::gs::dependent_false<Req>::value,
                "otter::gen_server::call takes a server_ref<Server>, not a pid: pass what start_link returned, "
                "or otter::server_ref<Server>(pid)");
  return {};
}
/// As above, for try_call.
template <class Server = void, class Req>
detail::gs::unchecked_call try_call(otter::pid, Req&&, std::chrono::nanoseconds = default_timeout) {
  static_assert(detail::gs::dependent_false<Req>::value,
                "otter::gen_server::try_call takes a server_ref<Server>, not a pid: pass what start_link "
                "returned, or otter::server_ref<Server>(pid)");
  return {};
}
/// As above, for cast.
template <class Server = void, class Msg>
void cast(otter::pid, Msg&&) {
  static_assert(detail::gs::dependent_false<Msg>::value,
                "otter::gen_server::cast takes a server_ref<Server>, not a pid: pass what start_link returned, "
                "or otter::server_ref<Server>(pid)");
}

/// Asks the server to stop with `reason` and waits until it has terminated
/// (its terminate has run). Throws otter::call_error(noproc) if it does not
/// exist, (timeout) if it did not stop in time, or (calling_self) at once if
/// called by the server itself (a handler stops its own server with stop_self).
template <class Server>
task<> stop(server_ref<Server> server, exit_reason reason = exit_reason::normal(),
            std::chrono::nanoseconds timeout = infinity) {
  const pid target = server.pid();
  if (!target) throw call_error(exit_reason::noproc());
  if (target == self()) throw call_error(detail::gs::calling_self());
  const ref watch = monitor(target);
  auto* r = detail::gs::make_request<exit_reason>(reason);
  r->invoke = &detail::gs::invoke_stop;
  r->server_type = &detail::gs::server_type_tag<Server>;
  r->from = self();
  r->call_tag = watch;
  r->kind = detail::gs::request_kind::stop;
  detail::send_envelope(target, r);
  struct outcome {
    bool stopped;
    exit_reason reason;
  };
  outcome o = co_await receive(
      when([watch](const down_message& d) { return d.monitor == watch; },
           [](down_message d) { return outcome{true, std::move(d.reason)}; }),
      after(timeout, [] { return outcome{false, exit_reason::timeout()}; }));
  if (!o.stopped) {
    demonitor(watch, true);
    throw call_error(exit_reason::timeout());
  }
  if (o.reason == exit_reason::noproc()) throw call_error(exit_reason::noproc());
}

} // namespace gen_server

namespace detail::gs {

/// Where a call to a server by term goes: a pid (of any node), or, when
/// `name.name` is set, the process registered as `name.name` on `name.node`.
struct remote_target {
  otter::pid pid;
  dist::remote_name name;
};

/// A call by term under way: the monitor of the server, and the tag its reply carries.
struct remote_call_start {
  ref monitor;
  term tag;
  std::optional<exit_reason> failure; ///< set when nothing was sent (noproc, noconnection, calling_self)
};

/// Monitors the server, then sends it `{'$gen_call', {self(), Tag}, request}`
/// (Tag: the monitor's reference, a plain reference as OTP's own calls allow).
remote_call_start start_remote_call(const remote_target& target, term request);
/// The reason of a reply that does not decode to the reply type.
exit_reason bad_reply(const term& reply);

template <class R>
task<result<R>> remote_call(remote_target target, term request, std::chrono::nanoseconds timeout) {
  mailbox_mark mark; // the reply and the DOWN come after it: older messages are not looked at
  const remote_call_start c = start_remote_call(target, std::move(request));
  if (c.failure) co_return result<R>(*c.failure);
  enum class got { reply, down, timeout };
  struct outcome {
    got what;
    term reply;
    exit_reason reason;
  };
  const term* tag = &c.tag;
  const ref watch = c.monitor;
  outcome o = co_await receive(
      mark, when([tag](const term& t) { return t.is_tuple(2) && t[0] == *tag; },
                 [](term t) { return outcome{got::reply, t[1], {}}; }),
      when([watch](const down_message& d) { return d.monitor == watch; },
           [](down_message d) { return outcome{got::down, {}, std::move(d.reason)}; }),
      after(timeout, [] { return outcome{got::timeout, {}, exit_reason::timeout()}; }));
  if (o.what != got::down) demonitor(watch, true);
  if (o.what != got::reply) co_return result<R>(std::move(o.reason));
  if constexpr (std::is_void_v<R>) {
    co_return result<R>();
  } else {
    std::optional<R> value = from_term<R>(o.reply);
    if (!value) co_return result<R>(bad_reply(o.reply));
    co_return result<R>(std::move(*value));
  }
}

template <class R>
task<R> remote_call_or_throw(remote_target target, term request, std::chrono::nanoseconds timeout) {
  result<R> r = co_await remote_call<R>(std::move(target), std::move(request), timeout);
  if (!r) throw call_error(r.error());
  if constexpr (!std::is_void_v<R>) co_return std::move(r).value();
}

template <class R, class Req>
constexpr bool check_call_remote() {
  static_assert(has_term_codec<std::decay_t<Req>>,
                "otter::gen_server::call_remote: the request type has no term codec; give it `static constexpr "
                "auto term_fields = otter::term_tuple(...)`, to_term/from_term hooks or an otter::codec "
                "specialisation (otter/dist/codec.hpp)");
  static_assert(std::is_void_v<R> || has_term_codec<R>,
                "otter::gen_server::call_remote: the reply type R has no term codec (otter/dist/codec.hpp)");
  return true;
}

} // namespace detail::gs

namespace gen_server {

/// Calls a gen_server by term: an Erlang (or Elixir) gen_server, or an otter
/// server that lists the request in its remote_requests, on another node or
/// this one. Sends `{'$gen_call', {self(), Tag}, to_term(request)}` to the
/// process registered as `server.name` on `server.node`, monitors it, and
/// waits for `{Tag, Reply}`; returns Reply decoded as R (R = void ignores it).
///
/// Fails as a local call does, with otter::call_error (try_call_remote returns
/// the reason instead): `timeout` when no reply came in time (the server
/// stays monitored no longer; a reply that comes later stays in the mailbox as
/// a term), `noproc` when there is no such process, `noconnection` when the
/// node cannot be reached or goes down before the reply, the server's exit
/// reason when it dies first, and `{error, bad_reply, "..."}` when the reply
/// does not decode to R. Req and R need term codecs (a compile-time error
/// otherwise). The request is encoded before this returns; the call starts
/// when the task is awaited and resumes on the caller's core. Messages queued
/// before the call are not looked at while waiting.
template <class R, class Req>
task<R> call_remote(dist::remote_name server, const Req& request, std::chrono::nanoseconds timeout = default_timeout) {
  static_assert(detail::gs::check_call_remote<R, Req>());
  return detail::gs::remote_call_or_throw<R>({{}, std::move(server)}, to_term(request), timeout);
}
/// As above, to a server's pid (a remote pid, or a local one).
template <class R, class Req>
task<R> call_remote(otter::pid server, const Req& request, std::chrono::nanoseconds timeout = default_timeout) {
  static_assert(detail::gs::check_call_remote<R, Req>());
  return detail::gs::remote_call_or_throw<R>({server, {}}, to_term(request), timeout);
}
/// As call_remote, but returns otter::result<R> instead of throwing.
template <class R, class Req>
task<result<R>> try_call_remote(dist::remote_name server, const Req& request,
                                std::chrono::nanoseconds timeout = default_timeout) {
  static_assert(detail::gs::check_call_remote<R, Req>());
  return detail::gs::remote_call<R>({{}, std::move(server)}, to_term(request), timeout);
}
/// As above, to a server's pid.
template <class R, class Req>
task<result<R>> try_call_remote(otter::pid server, const Req& request,
                                std::chrono::nanoseconds timeout = default_timeout) {
  static_assert(detail::gs::check_call_remote<R, Req>());
  return detail::gs::remote_call<R>({server, {}}, to_term(request), timeout);
}

} // namespace gen_server
} // namespace otter
