#pragma once
// The ring's state, for the files of lib/uring/ (they include <liburing.h>).

#include <cstdint>
#include <string>

#include <liburing.h>

#include "ring.hpp"

namespace otter::detail::uring {

struct ring::impl {
  io_uring r{};
  bool msg_ring = false;
  bool deferred = false; // IORING_SETUP_DEFER_TASKRUN: completions run only when we ask
  int efd = -1;
  std::uint64_t efd_value = 0;
  struct eventfd_read : completion {
    impl* owner = nullptr;
  } efd_read;
  bool efd_unposted = false; // the eventfd's read found no SQE: post it on the next submit

  // Once io_uring_enter is refused the ring is dead: nothing more goes to the
  // kernel and every submit or wait throws this again.
  bool failed = false;
  int failed_errno = 0;
  std::string failure;
  unsigned busy_streak = 0; // EINTR/EBUSY/EAGAIN answers in a row

  /// Sorts an io_uring_enter result (from liburing's submit and wait calls):
  /// >= 0 and -ETIME are fine (returned as they are); -EINTR, -EBUSY and
  /// -EAGAIN are transient (the caller reaps, then tries again) until they
  /// persist; anything else kills the ring and throws runtime_unavailable.
  int check_enter(int rc, const char* doing);
  /// Like check_enter, but records a failure instead of throwing it.
  int check_enter_noexcept(int rc, const char* doing) noexcept;
  /// Throws the recorded failure, if any.
  void throw_if_failed() const;

  /// The next free SQE; a full queue is submitted first. Throws when the kernel
  /// takes nothing (the ring failed, or it is busy for now).
  io_uring_sqe* sqe();
  /// The same without throwing: null when no SQE can be had.
  io_uring_sqe* sqe_or_null() noexcept;
};

} // namespace otter::detail::uring
