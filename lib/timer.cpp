#include <otter/timer.hpp>

#include "node_state.hpp"
#include "scheduler.hpp"

namespace otter::detail {

void arm_timer(timer_node* t, std::chrono::nanoseconds after) {
  current_scheduler("otter timers").arm(t, after);
}

void disarm_armed_timer(timer_node* t) noexcept { tl_scheduler->disarm(t); }

timer_ref start_send_timer(std::chrono::nanoseconds after, pid to, envelope* message) {
  scheduler* s = tl_scheduler;
  if (s == nullptr) {
    destroy(message);
    current_scheduler("otter::send_after");
  }
  try {
    return s->start_send_timer(after, to, message);
  } catch (...) {
    destroy(message);
    throw;
  }
}

namespace {
struct cancel_envelope final : envelope {
  timer_ref ref;
};
void free_cancel(envelope* e) noexcept { delete static_cast<cancel_envelope*>(e); }
void run_cancel(envelope* e, scheduler& s) {
  s.cancel_send_timer(static_cast<cancel_envelope*>(e)->ref);
  free_cancel(e);
}
constexpr type_tag cancel_tag{&free_cancel, &run_cancel};
} // namespace

} // namespace otter::detail

namespace otter {

std::chrono::nanoseconds monotonic_time() {
  return std::chrono::nanoseconds(detail::current_scheduler("otter::monotonic_time").now_ns());
}

bool cancel_timer(timer_ref timer) {
  detail::scheduler& s = detail::current_scheduler("otter::cancel_timer");
  const pid where = pid::from_bits(timer.bits());
  if (!timer || where.scheduler() >= s.node().size()) return false;
  if (where.scheduler() == s.index()) return s.cancel_send_timer(timer);
  auto* e = new detail::cancel_envelope;
  e->tag = &detail::cancel_tag;
  e->ref = timer;
  s.post(where.scheduler(), e);
  return false;
}

} // namespace otter
