#pragma once
// The ring's state, for the files of lib/uring/ (they include <liburing.h>).

#include <cstdint>

#include <liburing.h>

#include "ring.hpp"

namespace otter::detail::uring {

struct ring::impl {
  io_uring r{};
  bool msg_ring = false;
  bool deferred = false; // IORING_SETUP_DEFER_TASKRUN: completions run only when we ask
  int efd = -1;
  std::uint64_t efd_value = 0;
  completion efd_read;
};

} // namespace otter::detail::uring
