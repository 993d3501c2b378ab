#include "ops.hpp"
#include "ring_impl.hpp"

#include <cerrno>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

#include <liburing.h>
#include <sys/mman.h>

#include <otter/errors.hpp>

#include "failure.hpp"

namespace otter::detail::uring {

static_assert(cqe_more == IORING_CQE_F_MORE);
static_assert(cqe_buffer == IORING_CQE_F_BUFFER);
static_assert(cqe_buffer_shift == IORING_CQE_BUFFER_SHIFT);

namespace {

// Throws (the process that asked crashes) when no SQE can be had.
io_uring_sqe* next_sqe(ring& r) { return r.get().sqe(); }

} // namespace

void prep_recv_multishot(ring& r, int fd, std::uint16_t buffer_group, completion* done) {
  io_uring_sqe* sqe = next_sqe(r);
  io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = buffer_group;
  io_uring_sqe_set_data(sqe, done);
}

void prep_recv_select(ring& r, int fd, std::uint16_t buffer_group, completion* done) {
  io_uring_sqe* sqe = next_sqe(r);
  io_uring_prep_recv(sqe, fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = buffer_group;
  io_uring_sqe_set_data(sqe, done);
}

void prep_send(ring& r, int fd, const void* data, std::size_t size, completion* done) {
  io_uring_sqe* sqe = next_sqe(r);
  io_uring_prep_send(sqe, fd, data, size, MSG_NOSIGNAL);
  io_uring_sqe_set_data(sqe, done);
}

void prep_connect(ring& r, int fd, const sockaddr* addr, socklen_t len, completion* done) {
  io_uring_sqe* sqe = next_sqe(r);
  io_uring_prep_connect(sqe, fd, addr, len);
  io_uring_sqe_set_data(sqe, done);
}

void prep_accept_multishot(ring& r, int fd, completion* done) {
  io_uring_sqe* sqe = next_sqe(r);
  io_uring_prep_multishot_accept(sqe, fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  io_uring_sqe_set_data(sqe, done);
}

void prep_sendmsg(ring& r, int fd, const msghdr* msg, completion* done) {
  io_uring_sqe* sqe = next_sqe(r);
  io_uring_prep_sendmsg(sqe, fd, msg, MSG_NOSIGNAL);
  io_uring_sqe_set_data(sqe, done);
}

void prep_recvmsg(ring& r, int fd, msghdr* msg, completion* done) {
  io_uring_sqe* sqe = next_sqe(r);
  io_uring_prep_recvmsg(sqe, fd, msg, 0);
  io_uring_sqe_set_data(sqe, done);
}

void prep_openat(ring& r, const char* path, int flags, unsigned mode, completion* done) {
  io_uring_sqe* sqe = next_sqe(r);
  io_uring_prep_openat(sqe, AT_FDCWD, path, flags, mode);
  io_uring_sqe_set_data(sqe, done);
}

void prep_read(ring& r, int fd, void* buf, unsigned size, std::uint64_t offset, completion* done) {
  io_uring_sqe* sqe = next_sqe(r);
  io_uring_prep_read(sqe, fd, buf, size, offset);
  io_uring_sqe_set_data(sqe, done);
}

void prep_write(ring& r, int fd, const void* buf, unsigned size, std::uint64_t offset, completion* done) {
  io_uring_sqe* sqe = next_sqe(r);
  io_uring_prep_write(sqe, fd, buf, size, offset);
  io_uring_sqe_set_data(sqe, done);
}

void prep_fsync(ring& r, int fd, completion* done) {
  io_uring_sqe* sqe = next_sqe(r);
  io_uring_prep_fsync(sqe, fd, 0);
  io_uring_sqe_set_data(sqe, done);
}

void prep_cancel(ring& r, completion* target) noexcept {
  // From destructors and timers: no SQE (a dead or busy ring) means no cancel;
  // the request then ends with the ring.
  io_uring_sqe* sqe = r.get().sqe_or_null();
  if (sqe == nullptr) return;
  io_uring_prep_cancel(sqe, target, 0);
  io_uring_sqe_set_data(sqe, nullptr);
}

buffer_ring::buffer_ring(ring& r, std::uint16_t group, unsigned count, unsigned size)
    : ring_(r), group_(group), count_(count), size_(size) {
  // The kernel says EINVAL for these, which would read as "kernel too old".
  if (count == 0 || count > 32768 || (count & (count - 1)) != 0)
    throw std::invalid_argument("otter::node: node_options::receive_buffers must be a power of two from 1 to "
                                "32768, not " + std::to_string(count));
  if (size == 0) throw std::invalid_argument("otter::node: node_options::receive_buffer_size must not be 0");
  // The ring of buffer descriptors must be page aligned.
  const std::size_t ring_bytes = sizeof(io_uring_buf) * count;
  ring_memory_ = ::mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ring_memory_ == MAP_FAILED) throw std::bad_alloc{};
  memory_ = static_cast<char*>(std::aligned_alloc(64, static_cast<std::size_t>(count) * size));
  if (memory_ == nullptr) {
    ::munmap(ring_memory_, ring_bytes);
    throw std::bad_alloc{};
  }
  auto* br = static_cast<io_uring_buf_ring*>(ring_memory_);
  io_uring_buf_ring_init(br);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uint64_t>(ring_memory_);
  reg.ring_entries = count;
  reg.bgid = group;
  if (const int rc = io_uring_register_buf_ring(&r.get().r, &reg, 0); rc < 0) {
    std::free(memory_);
    ::munmap(ring_memory_, ring_bytes);
    throw runtime_unavailable(-rc, register_failure_message(-rc, "the receive buffers (a ring of provided buffers)"));
  }
  const int mask = io_uring_buf_ring_mask(count);
  for (unsigned i = 0; i < count; ++i)
    io_uring_buf_ring_add(br, memory_ + static_cast<std::size_t>(i) * size, size, static_cast<unsigned short>(i), mask,
                          static_cast<int>(i));
  io_uring_buf_ring_advance(br, static_cast<int>(count));
}

buffer_ring::~buffer_ring() {
  // A refusal here changes nothing: closing the ring drops the registration too.
  (void)io_uring_unregister_buf_ring(&ring_.get().r, group_);
  ::munmap(ring_memory_, sizeof(io_uring_buf) * count_);
  std::free(memory_);
}

void buffer_ring::recycle(unsigned id) noexcept {
  auto* br = static_cast<io_uring_buf_ring*>(ring_memory_);
  io_uring_buf_ring_add(br, memory_ + static_cast<std::size_t>(id) * size_, size_, static_cast<unsigned short>(id),
                        io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(br, 1);
}

} // namespace otter::detail::uring
