#pragma once
// One scheduler's io_uring. The only interface between otter and the kernel's
// ring: files under lib/uring/ are the only ones that include <liburing.h>.

#include <cstddef>
#include <cstdint>
#include <memory>

namespace otter::detail::uring {

/// Base of everything submitted to a ring. The SQE's user_data points at it;
/// `complete` runs on the ring's thread when the CQE is reaped.
struct completion {
  void (*complete)(completion* self, int result, std::uint32_t flags) noexcept = nullptr;
};

/// Owned and used by one thread (the scheduler's), except `fd()`, which other
/// rings use to address their wake-ups.
class ring {
public:
  /// Sets up the ring. Throws otter::runtime_unavailable, naming the cause and
  /// the remedy, when the kernel refuses (EPERM, ENOSYS, ENOMEM...).
  explicit ring(unsigned entries);
  ~ring();
  ring(const ring&) = delete;
  ring& operator=(const ring&) = delete;

  int fd() const noexcept;
  /// Whether IORING_OP_MSG_RING is available for waking other rings.
  bool can_message_rings() const noexcept;

  /// Keeps a read posted on `efd`, so that a write to it from any thread wakes
  /// a wait on this ring.
  void watch_eventfd(int efd);

  /// Posts a completion onto `target_fd`'s ring (waking its waiter) without a
  /// round trip through a file descriptor. Submits at once; throws when the
  /// kernel did not take it (the caller then wakes the target another way).
  void message_ring(int target_fd);

  // submit, poll, wait, watch_eventfd and message_ring check what
  // io_uring_enter answers. A timeout is nothing; a signal (EINTR), EBUSY
  // and EAGAIN mean "try again" ("reap first"), and the ring reaps and tries
  // again, giving up after a long streak of them. Anything else (EPERM from a seccomp policy...)
  // kills the ring: they throw otter::runtime_unavailable naming
  // io_uring_enter, the errno and the likely cause, and throw it again on
  // every later call. The scheduler then fails the node.

  /// Submits queued SQEs, if any, and collects what has completed, without waiting.
  void submit();
  /// Collects what has completed (for a ring whose completions are deferred
  /// until asked for), without waiting.
  void poll();
  /// Whether io_uring_enter was refused: the ring can do nothing more.
  bool failed() const noexcept;
  /// True when completions are waiting to be reaped.
  bool has_completions() const noexcept;
  /// Runs the completions of every CQE ready now; returns how many.
  unsigned reap() noexcept;
  /// Submits, then sleeps until at least one completion or `timeout_ns`
  /// (negative: no timeout) has passed, then reaps.
  void wait(std::int64_t timeout_ns);

  struct impl;
  impl& get() noexcept { return *impl_; }
  /// Requests submitted and not yet completed, which keep the loop from
  /// treating the scheduler as idle in virtual time.
  std::size_t& in_flight() noexcept { return in_flight_; }

private:
  std::unique_ptr<impl> impl_;
  std::size_t in_flight_ = 0;
};

} // namespace otter::detail::uring
