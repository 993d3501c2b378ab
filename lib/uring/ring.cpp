#include "ring.hpp"
#include "ring_impl.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include <liburing.h>
#include <unistd.h>

#include <otter/errors.hpp>

namespace otter::detail::uring {



namespace {

std::string setup_failure_message(int err) {
  std::string m = "otter: cannot set up io_uring: io_uring_setup failed with ";
  switch (err) {
  case EPERM:
    return m + "EPERM (operation not permitted). io_uring is blocked for this process: usually by a "
               "seccomp policy (Docker's and many sandboxes' default profiles block it) or by the sysctl "
               "kernel.io_uring_disabled (1 = allowed only for the io_uring_group, 2 = off). Allow it: "
               "run the container with --security-opt seccomp=unconfined (or a profile that permits "
               "io_uring_setup, io_uring_enter and io_uring_register), or set kernel.io_uring_disabled=0.";
  case ENOSYS:
    return m + "ENOSYS (not implemented). This kernel has no io_uring: it is older than Linux 5.1, "
               "built without CONFIG_IO_URING, or a sandbox (gVisor, some seccomp filters) hides it. "
               "otter needs Linux 5.19 or newer with io_uring enabled.";
  case ENOMEM:
    return m + "ENOMEM (out of memory). The ring's memory could not be allocated or locked: kernels "
               "before 5.12 charge it to RLIMIT_MEMLOCK. Raise the limit (ulimit -l, LimitMEMLOCK= in "
               "systemd, --ulimit memlock=-1 for Docker), lower node_options::ring_entries, or use a "
               "newer kernel.";
  case EMFILE:
  case ENFILE:
    return m + std::strerror(err) + ". The process is out of file descriptors; raise ulimit -n.";
  default:
    return m + std::strerror(err) + " (errno " + std::to_string(err) + ").";
  }
}

void on_eventfd_read(completion*, int, std::uint32_t) noexcept;

void post_eventfd_read(ring::impl& im) {
  io_uring_sqe* sqe = io_uring_get_sqe(&im.r);
  if (sqe == nullptr) {
    io_uring_submit(&im.r);
    sqe = io_uring_get_sqe(&im.r);
  }
  io_uring_prep_read(sqe, im.efd, &im.efd_value, sizeof im.efd_value, 0);
  io_uring_sqe_set_data(sqe, &im.efd_read);
}

} // namespace

ring::ring(unsigned entries) : impl_(std::make_unique<impl>()) {
  // One thread submits to this ring, and completions run only when it asks
  // for them (DEFER_TASKRUN): in batches, at the top of a loop turn, never
  // interrupting it. Older kernels reject the flags: fall back step by step.
  const unsigned tries[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
                            IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN, 0};
  int rc = -EINVAL;
  for (unsigned flags : tries) {
    io_uring_params p{};
    p.flags = flags;
    rc = io_uring_queue_init_params(entries, &impl_->r, &p);
    if (rc != -EINVAL) {
      impl_->deferred = rc == 0 && (flags & IORING_SETUP_DEFER_TASKRUN) != 0;
      break;
    }
  }
  if (rc < 0) throw runtime_unavailable(-rc, setup_failure_message(-rc));

  if (io_uring_probe* probe = io_uring_get_probe_ring(&impl_->r)) {
    impl_->msg_ring = io_uring_opcode_supported(probe, IORING_OP_MSG_RING) != 0;
    io_uring_free_probe(probe);
  }
  impl_->efd_read.complete = &on_eventfd_read;
}

ring::~ring() { io_uring_queue_exit(&impl_->r); }

int ring::fd() const noexcept { return impl_->r.ring_fd; }
bool ring::can_message_rings() const noexcept { return impl_->msg_ring; }

namespace {
ring::impl* eventfd_owner(completion* c) noexcept {
  return reinterpret_cast<ring::impl*>(reinterpret_cast<char*>(c) - offsetof(ring::impl, efd_read));
}
void on_eventfd_read(completion* c, int, std::uint32_t) noexcept {
  ring::impl* im = eventfd_owner(c);
  post_eventfd_read(*im); // keep listening
}
} // namespace

void ring::watch_eventfd(int efd) {
  impl_->efd = efd;
  post_eventfd_read(*impl_);
  io_uring_submit(&impl_->r);
}

void ring::message_ring(int target_fd) {
  io_uring_sqe* sqe = io_uring_get_sqe(&impl_->r);
  if (sqe == nullptr) {
    io_uring_submit(&impl_->r);
    sqe = io_uring_get_sqe(&impl_->r);
  }
  // The target sees a CQE with user_data 0, which it ignores: the point is the wake-up.
  io_uring_prep_msg_ring(sqe, target_fd, 0, 0, 0);
  io_uring_sqe_set_data(sqe, nullptr);
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
  io_uring_submit(&impl_->r);
}

void ring::submit() {
  // With deferred completions, one enter both submits and runs what completed.
  if (impl_->deferred && in_flight_ > 0)
    io_uring_submit_and_get_events(&impl_->r);
  else if (io_uring_sq_ready(&impl_->r) > 0)
    io_uring_submit(&impl_->r);
}

void ring::poll() {
  if (impl_->deferred && in_flight_ > 0) io_uring_get_events(&impl_->r);
}

bool ring::has_completions() const noexcept { return io_uring_cq_ready(&impl_->r) > 0; }

unsigned ring::reap() noexcept {
  unsigned total = 0;
  for (;;) {
    io_uring_cqe* cqes[64];
    const unsigned n = io_uring_peek_batch_cqe(&impl_->r, cqes, 64);
    if (n == 0) return total;
    for (unsigned i = 0; i < n; ++i) {
      auto* c = static_cast<completion*>(io_uring_cqe_get_data(cqes[i]));
      if (c != nullptr) c->complete(c, cqes[i]->res, cqes[i]->flags);
    }
    io_uring_cq_advance(&impl_->r, n);
    total += n;
  }
}

void ring::wait(std::int64_t timeout_ns) {
  io_uring_cqe* cqe = nullptr;
  if (timeout_ns < 0) {
    io_uring_submit_and_wait(&impl_->r, 1);
  } else {
    __kernel_timespec ts{};
    ts.tv_sec = timeout_ns / 1'000'000'000;
    ts.tv_nsec = timeout_ns % 1'000'000'000;
    // -ETIME (timed out) and -EINTR (a signal) both just end the wait.
    io_uring_submit_and_wait_timeout(&impl_->r, &cqe, 1, &ts, nullptr);
  }
  reap();
}

} // namespace otter::detail::uring
