// The entry points that otter's public templates call into.

#include <otter/detail/runtime.hpp>

#include <stdexcept>
#include <string>

#include <otter/mailbox_limit.hpp>

#include "scheduler.hpp"

namespace otter::detail {

void throw_not_in_process(const char* what) {
  throw std::logic_error(std::string(what) +
                         " must be called from inside an otter process (a coroutine started by "
                         "otter::spawn or otter::node::run)");
}

scheduler& current_scheduler(const char* what) {
  if (tl_scheduler != nullptr) [[likely]]
    return *tl_scheduler;
  throw std::logic_error(std::string(what) +
                         " must be called on one of the node's scheduler threads (normally from a "
                         "process); from other threads, use otter::node");
}

void send_envelope(pid to, envelope* e) {
  scheduler* s = tl_scheduler;
  if (s == nullptr) [[unlikely]] {
    destroy(e);
    current_scheduler("otter::send");
  }
  if (!s->deliver_refusable(to, e)) [[unlikely]] {
    destroy(e);
    throw mailbox_full(to);
  }
}

void requeue(pcb& p) noexcept { tl_scheduler->make_ready(p); }

void wake(pcb& p) noexcept { tl_scheduler->make_ready(p); }

} // namespace otter::detail
