#pragma once
// The awaiter behind otter::gen_server::call and try_call: sends the request
// and waits for its reply, the server's DOWN or the timeout.

#include <otter/detail/config.hpp>

#include <chrono>
#include <coroutine>
#include <optional>
#include <type_traits>
#include <utility>

#include <otter/detail/gen_server_impl.hpp>
#include <otter/exit_reason.hpp>
#include <otter/monitor.hpp>
#include <otter/receive.hpp>
#include <otter/result.hpp>

namespace otter {

template <class Server>
class server_ref; // gen_server.hpp

namespace detail::gs {

/// Runs a call's handler on the server (gen_server.hpp).
template <class S, class Req>
void invoke_call(void* server, request* r, request_context& ctx);

/// The reason of a call a server makes to itself (it could never be answered).
exit_reason calling_self();

/// Waits for a call's reply (or the server's DOWN, or the timeout) without
/// looking at messages that were in the mailbox before the call.
template <class S, class Req, bool Throws>
class [[nodiscard("otter::gen_server::call does nothing until you co_await it")]] call_awaiter {
  using R = typename reply_type_of<S, Req>::type;
  using W = std::conditional_t<std::is_void_v<R>, no_value, R>;

  struct outcome {
    std::optional<W> value;
    exit_reason error;
  };
  struct reply_guard {
    const ref* tag;
    bool operator()(const call_reply<W>& r) const noexcept { return r.tag == *tag; }
  };
  struct on_reply {
    outcome operator()(call_reply<W>&& r) const { return outcome{std::move(r.value), {}}; }
  };
  struct down_guard {
    const ref* tag;
    bool operator()(const down_message& d) const noexcept { return d.monitor == *tag; }
  };
  struct on_down {
    outcome operator()(down_message&& d) const { return outcome{std::nullopt, std::move(d.reason)}; }
  };
  struct on_timeout {
    outcome operator()() const { return outcome{std::nullopt, exit_reason::timeout()}; }
  };
  using inner_type = receive_awaiter<after_clause<on_timeout>, receive_clause<call_reply<W>, reply_guard, on_reply>,
                                     receive_clause<down_message, down_guard, on_down>>;

public:
  using result_type = std::conditional_t<Throws, R, result<R>>;

  call_awaiter(server_ref<S> server, Req&& request, std::chrono::nanoseconds timeout)
      : server_(std::move(server)), request_(std::move(request)),
        inner_(after_clause<on_timeout>{timeout, {}}, receive_clause<call_reply<W>, reply_guard, on_reply>{{&tag_}, {}},
               receive_clause<down_message, down_guard, on_down>{{&tag_}, {}}) {}
  call_awaiter(const call_awaiter&) = delete;
  call_awaiter& operator=(const call_awaiter&) = delete;

  bool await_ready() {
    pcb& me = current_process("otter::gen_server::call");
    const pid target = server_.pid();
    if (!target) {
      failure_ = exit_reason::noproc(); // no such server (an unregistered name)
      return true;
    }
    if (target == me.self) {
      failure_ = calling_self(); // nobody would ever answer: fail now, send nothing
      return true;
    }
    // Only messages after this point can be the reply or the DOWN.
    envelope** mark = me.mailbox_tail;
    tag_ = monitor(target); // a dead server: DOWN noproc
    await_reply(me, tag_);
    auto* r = make_request<Req>(std::move(request_));
    r->invoke = &invoke_call<S, Req>;
    r->server_type = &server_type_tag<S>;
    r->from = me.self;
    r->call_tag = tag_;
    r->kind = request_kind::call;
    send_envelope(target, r);
    inner_.start_after(mark);
    return inner_.await_ready();
  }
  void await_suspend(std::coroutine_handle<> h) { inner_.await_suspend(h); }

  result_type await_resume() {
    if (failure_) return fail(std::move(*failure_));
    outcome o = inner_.await_resume();
    await_reply(current_process("otter::gen_server::call"), ref{});
    if (o.value) {
      demonitor(tag_, true);
      if constexpr (std::is_void_v<R>) {
        if constexpr (Throws) return; else return result<void>();
      } else {
        return std::move(*o.value);
      }
    }
    if (o.error.get_kind() == exit_reason::kind::timeout) demonitor(tag_, true);
    return fail(std::move(o.error));
  }

private:
  static void await_reply(pcb& me, ref tag);
  result_type fail(exit_reason reason) {
    if constexpr (Throws)
      throw call_error(std::move(reason));
    else
      return result_type(std::move(reason));
  }

  server_ref<S> server_;
  Req request_;
  ref tag_;
  std::optional<exit_reason> failure_; // failed before sending anything
  inner_type inner_;
};

void set_awaited_reply(pcb& me, ref tag);

template <class S, class Req, bool Throws>
void call_awaiter<S, Req, Throws>::await_reply(pcb& me, ref tag) {
  set_awaited_reply(me, tag);
}

} // namespace detail::gs
} // namespace otter
