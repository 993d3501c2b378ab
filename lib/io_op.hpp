#pragma once
// One I/O request in flight, owned jointly by the awaiter that waits for it
// and by the kernel: it is freed when both are done with it.

#include <cstdint>

#include <otter/detail/pcb.hpp>
#include <otter/detail/timer_node.hpp>

#include "uring/ring.hpp"

namespace otter::detail {

class scheduler;

struct io_op : uring::completion {
  io_op() noexcept { complete = &on_complete; }
  io_op(const io_op&) = delete;
  io_op& operator=(const io_op&) = delete;
  virtual ~io_op() = default;

  scheduler* home = nullptr; // the scheduler whose ring it was submitted to
  pcb* waiter = nullptr;     // the process waiting for it, if any
  int result = 0;
  std::uint32_t flags = 0;
  bool done = false;       // the kernel has completed it
  bool abandoned = false;  // its awaiter is gone: free it on completion
  bool timed_out = false;  // its timeout fired and it was cancelled
  bool failed_to_start = false;

  struct timeout_timer : timer_node {
    io_op* op = nullptr;
  } timer;

  /// For operations made of several requests (a send that the kernel took in
  /// part): return true after resubmitting, false when the result is final.
  virtual bool again(int /*result*/, std::uint32_t /*flags*/) { return false; }

  /// Submits the op on the current scheduler's ring (with `prepare`).
  void start();
  virtual void prepare(uring::ring& r) = 0;

  static void on_complete(uring::completion* c, int result, std::uint32_t flags) noexcept;
  static void on_timeout(timer_node* t) noexcept;
};

} // namespace otter::detail
