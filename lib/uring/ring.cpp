#include "ring.hpp"
#include "ring_impl.hpp"

#include <cerrno>
#include <string>
#include <system_error>

#include <liburing.h>
#include <unistd.h>

#include <otter/errors.hpp>

#include "failure.hpp"

namespace otter::detail::uring {

namespace {

// EINTR/EBUSY/EAGAIN answers in a row, each after reaping every completion,
// before the ring counts as dead rather than busy.
constexpr unsigned max_busy_streak = 1000;

void on_eventfd_read(completion*, int, std::uint32_t) noexcept;

// Called from a completion, so it cannot throw: without an SQE now, the read
// is posted on the next submit or wait.
void post_eventfd_read(ring::impl& im) noexcept {
  io_uring_sqe* sqe = im.sqe_or_null();
  if (sqe == nullptr) {
    im.efd_unposted = true;
    return;
  }
  io_uring_prep_read(sqe, im.efd, &im.efd_value, sizeof im.efd_value, 0);
  io_uring_sqe_set_data(sqe, &im.efd_read);
}

void repost_eventfd_read(ring::impl& im) noexcept {
  if (!im.efd_unposted) return;
  im.efd_unposted = false;
  post_eventfd_read(im);
}

} // namespace

int ring::impl::check_enter_noexcept(int rc, const char* doing) noexcept {
  if (rc >= 0 || rc == -ETIME) {
    busy_streak = 0;
    return rc;
  }
  // A signal (EINTR) or a kernel that must post completions first (EBUSY,
  // EAGAIN): try again after a reap. Only a long streak of them, with nothing
  // done in between, is a failure: the node would otherwise spin for ever.
  const int err = -rc;
  const bool transient = rc == -EINTR || rc == -EBUSY || rc == -EAGAIN;
  if (transient && ++busy_streak < max_busy_streak) return rc;
  failed = true;
  failed_errno = err;
  try {
    failure = transient ? enter_busy_message(err, busy_streak) : enter_failure_message(err, doing);
  } catch (...) {
    failure.clear(); // no memory for the message: runtime_unavailable still names the errno
  }
  return rc;
}

int ring::impl::check_enter(int rc, const char* doing) {
  rc = check_enter_noexcept(rc, doing);
  throw_if_failed();
  return rc;
}

void ring::impl::throw_if_failed() const {
  if (failed)
    throw runtime_unavailable(failed_errno, failure.empty() ? "otter: io_uring_enter failed" : failure);
}

io_uring_sqe* ring::impl::sqe_or_null() noexcept {
  if (io_uring_sqe* s = io_uring_get_sqe(&r)) return s;
  if (failed) return nullptr;
  // The submission queue is full: hand it to the kernel first.
  check_enter_noexcept(io_uring_submit(&r), "submitting a full queue");
  return io_uring_get_sqe(&r);
}

io_uring_sqe* ring::impl::sqe() {
  if (io_uring_sqe* s = sqe_or_null()) return s;
  throw_if_failed();
  throw std::system_error(EBUSY, std::generic_category(),
                          "otter: the io_uring submission queue is full and the kernel takes no more for now");
}

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
  impl_->efd_read.owner = impl_.get();
}

ring::~ring() { io_uring_queue_exit(&impl_->r); }

int ring::fd() const noexcept { return impl_->r.ring_fd; }
bool ring::can_message_rings() const noexcept { return impl_->msg_ring; }

namespace {
void on_eventfd_read(completion* c, int, std::uint32_t) noexcept {
  post_eventfd_read(*static_cast<ring::impl::eventfd_read*>(c)->owner); // keep listening
}
} // namespace

void ring::watch_eventfd(int efd) {
  impl& im = *impl_;
  im.efd = efd;
  im.throw_if_failed();
  io_uring_sqe* sqe = im.sqe();
  io_uring_prep_read(sqe, im.efd, &im.efd_value, sizeof im.efd_value, 0);
  io_uring_sqe_set_data(sqe, &im.efd_read);
  // The node's first io_uring_enter: a policy that refuses it fails the start here.
  im.check_enter(io_uring_submit(&im.r), "starting the scheduler");
}

void ring::message_ring(int target_fd) {
  impl& im = *impl_;
  im.throw_if_failed();
  io_uring_sqe* sqe = im.sqe();
  // The target sees a CQE with user_data 0, which it ignores: the point is the wake-up.
  io_uring_prep_msg_ring(sqe, target_fd, 0, 0, 0);
  io_uring_sqe_set_data(sqe, nullptr);
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
  const int rc = im.check_enter(io_uring_submit(&im.r), "waking another scheduler");
  // Not taken now (busy): the caller wakes the target another way.
  if (rc < 0) throw std::system_error(-rc, std::generic_category(), "otter: io_uring_enter busy");
}

void ring::submit() {
  impl& im = *impl_;
  im.throw_if_failed();
  repost_eventfd_read(im);
  // A busy kernel (EBUSY, EAGAIN) takes more once the completions it holds are
  // reaped; a few tries per turn, and check_enter gives up on a ring that stays busy.
  for (int attempt = 0; attempt < 4; ++attempt) {
    int rc;
    // With deferred completions, one enter both submits and runs what completed.
    if (im.deferred && in_flight_ > 0)
      rc = io_uring_submit_and_get_events(&im.r);
    else if (io_uring_sq_ready(&im.r) > 0)
      rc = io_uring_submit(&im.r);
    else
      return;
    rc = im.check_enter(rc, "submitting requests");
    if (rc >= 0) return;
    reap(); // transient: make room, then try again
  }
}

void ring::poll() {
  impl& im = *impl_;
  if (!im.deferred || in_flight_ == 0) return;
  im.throw_if_failed();
  im.check_enter(io_uring_get_events(&im.r), "collecting completions");
}

bool ring::failed() const noexcept { return impl_->failed; }

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
  impl& im = *impl_;
  im.throw_if_failed();
  repost_eventfd_read(im);
  io_uring_cqe* cqe = nullptr;
  int rc;
  if (timeout_ns < 0) {
    rc = io_uring_submit_and_wait(&im.r, 1);
  } else {
    __kernel_timespec ts{};
    ts.tv_sec = timeout_ns / 1'000'000'000;
    ts.tv_nsec = timeout_ns % 1'000'000'000;
    rc = io_uring_submit_and_wait_timeout(&im.r, &cqe, 1, &ts, nullptr);
  }
  // -ETIME (timed out) and -EINTR (a signal) just end the wait; EBUSY and
  // EAGAIN too, after the reap below made room.
  im.check_enter(rc, "waiting for completions");
  reap();
}

} // namespace otter::detail::uring
