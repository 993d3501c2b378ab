#pragma once
// The io_uring operations otter uses, one prepare function each. They queue an
// SQE on the scheduler's ring; the loop submits everything queued once per
// turn. `done` receives the CQE(s). This header keeps <liburing.h> out of the
// rest of otter.

#include <cstddef>
#include <cstdint>

#include <sys/socket.h>

#include "ring.hpp"

struct msghdr;

namespace otter::detail::uring {

// CQE flags (the kernel's values; checked against liburing in ops.cpp).
inline constexpr std::uint32_t cqe_more = 1u << 1;   // IORING_CQE_F_MORE: a multishot request goes on
inline constexpr std::uint32_t cqe_buffer = 1u << 0; // IORING_CQE_F_BUFFER: a provided buffer was used
inline constexpr unsigned cqe_buffer_shift = 16;     // IORING_CQE_BUFFER_SHIFT

/// One receive into a buffer of `buffer_group`: at most one buffer per request.
void prep_recv_select(ring& r, int fd, std::uint16_t buffer_group, completion* done);
void prep_recv_multishot(ring& r, int fd, std::uint16_t buffer_group, completion* done);
void prep_send(ring& r, int fd, const void* data, std::size_t size, completion* done);
void prep_connect(ring& r, int fd, const sockaddr* addr, socklen_t len, completion* done);
void prep_accept_multishot(ring& r, int fd, completion* done);
void prep_sendmsg(ring& r, int fd, const msghdr* msg, completion* done);
void prep_recvmsg(ring& r, int fd, msghdr* msg, completion* done);
void prep_openat(ring& r, const char* path, int flags, unsigned mode, completion* done);
void prep_read(ring& r, int fd, void* buf, unsigned size, std::uint64_t offset, completion* done);
void prep_write(ring& r, int fd, const void* buf, unsigned size, std::uint64_t offset, completion* done);
void prep_fsync(ring& r, int fd, completion* done);
/// Cancels the request whose completion is `target` (its CQE then comes with
/// -ECANCELED, unless it completed first). The cancel's own CQE is ignored.
/// Never throws: when no SQE can be had (the ring failed), nothing is cancelled.
void prep_cancel(ring& r, completion* target) noexcept;

/// A ring of provided buffers (one buffer group) that multishot receives pick
/// from: memory is used only while data is in flight, not per idle socket.
class buffer_ring {
public:
  buffer_ring(ring& r, std::uint16_t group, unsigned count, unsigned size);
  ~buffer_ring();
  buffer_ring(const buffer_ring&) = delete;
  buffer_ring& operator=(const buffer_ring&) = delete;

  std::uint16_t group() const noexcept { return group_; }
  unsigned buffer_size() const noexcept { return size_; }
  const char* data(unsigned id) const noexcept { return memory_ + static_cast<std::size_t>(id) * size_; }
  /// Gives buffer `id` back to the kernel.
  void recycle(unsigned id) noexcept;

private:
  ring& ring_;
  std::uint16_t group_;
  unsigned count_;
  unsigned size_;
  void* ring_memory_ = nullptr;
  char* memory_ = nullptr;
};

} // namespace otter::detail::uring
