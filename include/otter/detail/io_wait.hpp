#pragma once
// The part of an I/O awaiter that every operation shares: waiting for one
// request submitted to the process's ring, with an optional timeout.

#include <otter/detail/config.hpp>

#include <chrono>
#include <coroutine>

namespace otter::detail {

struct io_op; // lib/io_op.hpp

/// Owns one in-flight io_op. If the process is killed (or the awaiter dropped)
/// before the operation completes, the request is cancelled and the op —
/// with the buffers the kernel may still use — lives on until the kernel's
/// completion arrives: never a use after free.
class io_wait {
public:
  explicit io_wait(io_op* op, std::chrono::nanoseconds timeout) noexcept : op_(op), timeout_(timeout) {}
  io_wait(const io_wait&) = delete;
  io_wait& operator=(const io_wait&) = delete;
  ~io_wait();

  bool await_ready() const noexcept;
  void await_suspend(std::coroutine_handle<> h);

protected:
  /// After resumption: the kernel's result (negative errno on failure), or
  /// -ETIMEDOUT if the timeout fired first.
  int result() const noexcept;
  io_op* op() const noexcept { return op_; }

private:
  io_op* op_;
  std::chrono::nanoseconds timeout_;
};

} // namespace otter::detail

namespace otter {
/// A timeout that never expires (the default of I/O operations).
inline constexpr std::chrono::nanoseconds wait_forever = std::chrono::nanoseconds::max();
} // namespace otter
