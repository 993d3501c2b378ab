#include "io_op.hpp"

#include <cerrno>

#include <otter/detail/io_wait.hpp>
#include <otter/detail/runtime.hpp>

#include "scheduler.hpp"
#include "uring/ops.hpp"

namespace otter::detail {

void io_op::start() {
  home = &current_scheduler("otter I/O");
  prepare(home->ring());
  ++home->ring().in_flight();
}

void io_op::on_complete(uring::completion* c, int result, std::uint32_t flags) noexcept {
  auto* op = static_cast<io_op*>(c);
  if (!op->abandoned && !op->timed_out && result >= 0) {
    try {
      if (op->again(result, flags)) return; // resubmitted: still in flight
    } catch (...) {
      result = -ENOMEM;
    }
  }
  --op->home->ring().in_flight();
  op->done = true;
  op->result = result;
  disarm_timer(&op->timer);
  if (op->abandoned) {
    delete op; // nobody waits: the kernel was the last user
    return;
  }
  if (op->waiter != nullptr) {
    pcb* p = std::exchange(op->waiter, nullptr);
    op->home->make_ready(*p);
  }
}

void io_op::on_timeout(timer_node* t) noexcept {
  io_op* op = static_cast<timeout_timer*>(t)->op;
  if (op->done) return;
  op->timed_out = true;
  uring::prep_cancel(op->home->ring(), op); // it completes with -ECANCELED (or first)
}

io_wait::~io_wait() {
  if (op_ == nullptr) return;
  if (op_->done || op_->failed_to_start) {
    delete op_;
    return;
  }
  // Still in the kernel: cancel it; the completion frees it.
  op_->abandoned = true;
  op_->waiter = nullptr;
  disarm_timer(&op_->timer);
  uring::prep_cancel(op_->home->ring(), op_);
}

bool io_wait::await_ready() const noexcept { return op_->done || op_->failed_to_start; }

void io_wait::await_suspend(std::coroutine_handle<> h) {
  pcb& p = current_process("otter I/O");
  p.resume_point = h;
  op_->waiter = &p;
  if (timeout_ != otter::wait_forever) {
    op_->timer.op = op_;
    op_->timer.fire = &io_op::on_timeout;
    arm_timer(&op_->timer, timeout_);
  }
  suspend_waiting(p, nullptr);
}

int io_wait::result() const noexcept {
  if (op_->timed_out && op_->result == -ECANCELED) return -ETIMEDOUT;
  return op_->result;
}

} // namespace otter::detail
