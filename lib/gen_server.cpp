#include <otter/gen_server.hpp>

#include <otter/errors.hpp>

#include "node_state.hpp"
#include "process_ext.hpp"
#include "scheduler.hpp"

namespace otter::detail {

exit_reason reason_of_current_exception() noexcept; // process.cpp

namespace gs {

// Per process, not per thread: a coroutine handler may wait while other
// servers on this thread run theirs, and still call stop_self after.
request_context** request_slot() { return &ext_of(current_process("otter::gen_server")).serving; }

void exit_when_done(exit_reason reason) { ext_of(current_process("otter::gen_server")).reason = std::move(reason); }

std::optional<exit_reason> register_for_server(const std::string& name) {
  try {
    register_name(name, self());
    return std::nullopt;
  } catch (const badarg&) {
    return exit_reason::custom("already_started");
  }
}

exit_reason current_exception_reason() noexcept { return reason_of_current_exception(); }

exit_reason current_exception_reason(std::exception_ptr e) noexcept {
  try {
    std::rethrow_exception(std::move(e));
  } catch (...) {
    return reason_of_current_exception();
  }
}

void set_awaited_reply(pcb& me, ref tag) { ext_of(me).awaited_reply = tag; }

exit_reason calling_self() { return exit_reason::custom("calling_self"); }

namespace {

/// A term in a reason's text, cut short: a hostile request must not make a huge reason.
std::string shown(const term& t) {
  std::string s = to_string(t);
  constexpr std::size_t limit = 200;
  if (s.size() > limit) {
    s.resize(limit);
    s += "...";
  }
  return s;
}

} // namespace

void send_remote_reply(pid to, const term& tag, term reply) { send(to, term::tuple({tag, std::move(reply)})); }

void no_remote_clause(std::string_view handler, const term& request) {
  // An exit with this reason, not a C++ exception type the caller could not read.
  throw exit_exception{exit_reason::error(
      "function_clause", "no " + std::string(handler) + " of the server's remote_requests takes " + shown(request))};
}

exit_reason bad_reply(const term& reply) {
  return exit_reason::error("bad_reply", "the reply " + shown(reply) + " does not decode to the call's reply type");
}

remote_call_start start_remote_call(const remote_target& target, term request) {
  remote_call_start c;
  pid to = target.pid;
  const bool by_name = !target.name.name.empty();
  if (by_name && target.name.node == dist::this_node()) {
    to = whereis(target.name.name); // this node: its registry
    if (!to) {
      c.failure = exit_reason::noproc();
      return c;
    }
  } else if (by_name && !dist::alive()) {
    c.failure = exit_reason::noconnection(); // not distributed: no other node is reachable
    return c;
  } else if (!by_name && !to) {
    c.failure = exit_reason::noproc();
    return c;
  }
  const pid me = self();
  if (to == me) {
    c.failure = calling_self();
    return c;
  }
  const bool remote_name = by_name && !to;
  c.monitor = remote_name ? monitor(target.name) : monitor(to);
  c.tag = term::from_ref(c.monitor, dist::local_node_index());
  term call = term::tuple({term::atom("$gen_call"), term::tuple({term(me), c.tag}), std::move(request)});
  if (remote_name)
    dist::detail::send_term(target.name, std::move(call));
  else
    send(to, std::move(call));
  return c;
}

} // namespace gs
} // namespace otter::detail

namespace otter::gen_server {

void stop_self(exit_reason reason) {
  detail::pcb* me = detail::tl_current;
  detail::gs::request_context* ctx = me != nullptr && me->ext != nullptr ? me->ext->serving : nullptr;
  if (ctx == nullptr) throw std::logic_error("otter::gen_server::stop_self must be called from a gen_server handler");
  ctx->stop = true;
  ctx->stop_reason = std::move(reason);
}

} // namespace otter::gen_server
