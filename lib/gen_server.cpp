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
