#pragma once
// otter::blocking — run blocking work (a synchronous driver, a long
// computation) on the node's blocking threads, off the schedulers, and get its
// result back in the process.

#include <otter/detail/config.hpp>

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <otter/detail/envelope.hpp>
#include <otter/detail/pcb.hpp>
#include <otter/detail/runtime.hpp>

namespace otter {
namespace detail {

/// One piece of blocking work. It travels to a blocking thread, runs there,
/// and comes back to its process's scheduler as an envelope (see blocking.cpp).
struct blocking_job : envelope {
  void (*run)(blocking_job*) noexcept = nullptr;
  void (*free)(blocking_job*) noexcept = nullptr;
  pcb* process = nullptr; ///< the waiting process; null once it is gone (scheduler thread only)
  unsigned scheduler = 0; ///< the waiting process's scheduler
  bool done = false;      ///< back on the scheduler (scheduler thread only)
  bool ran = false;       ///< it ran (false: the node shut down first)
};

/// Hands the job to the calling scheduler's node's blocking threads.
void submit_blocking(blocking_job* job);
[[noreturn]] void throw_blocking_cancelled();

template <class F>
struct blocking_job_of final : blocking_job {
  using value_type = std::invoke_result_t<F&>;
  using stored = std::conditional_t<std::is_void_v<value_type>, bool, value_type>;

  explicit blocking_job_of(F&& f) : fn(std::move(f)) {
    run = [](blocking_job* j) noexcept {
      auto* self = static_cast<blocking_job_of*>(j);
      try {
        if constexpr (std::is_void_v<value_type>) {
          self->fn();
          self->value.emplace(true);
        } else {
          self->value.emplace(self->fn());
        }
      } catch (...) {
        self->error = std::current_exception();
      }
    };
    free = [](blocking_job* j) noexcept { delete static_cast<blocking_job_of*>(j); };
  }

  F fn;
  std::optional<stored> value;
  std::exception_ptr error;
};

} // namespace detail

/// Awaitable returned by `blocking`.
template <class F>
class [[nodiscard("otter::blocking does nothing unless you co_await it")]] blocking_awaiter {
  using job_type = detail::blocking_job_of<F>;

public:
  using value_type = typename job_type::value_type;

  explicit blocking_awaiter(F&& f) : job_(new job_type(std::move(f))) {}
  blocking_awaiter(const blocking_awaiter&) = delete;
  blocking_awaiter& operator=(const blocking_awaiter&) = delete;
  ~blocking_awaiter() {
    if (job_ == nullptr) return;
    if (job_->done || !submitted_)
      delete job_;
    else
      job_->process = nullptr; // killed while the work runs: it is freed when it comes back
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    detail::pcb& p = detail::current_process("otter::blocking");
    job_->process = &p;
    detail::submit_blocking(job_); // throws (and so does not suspend) if the pool cannot take it
    submitted_ = true;
    p.resume_point = h;
    detail::suspend_waiting(p, nullptr); // no message wakes it: only the job's return or a kill
  }
  value_type await_resume() {
    if (!job_->ran) detail::throw_blocking_cancelled();
    if (job_->error) std::rethrow_exception(job_->error);
    if constexpr (!std::is_void_v<value_type>) return std::move(*job_->value);
  }

private:
  job_type* job_;
  bool submitted_ = false;
};

/// Runs `fn()` on one of the node's blocking threads and resumes the calling
/// process, on its own core, with what `fn` returns (or rethrows what it
/// threw). Processes are cooperative: code that blocks or computes for long
/// inside a process stalls every process and timer of its core, so give such
/// work to `blocking`:
///
/// ```
/// const row r = co_await otter::blocking([db, id] { return db->query(id); });
/// ```
///
/// The calling process waits without holding its core; messages that arrive
/// meanwhile stay queued. `fn` is moved to the blocking thread and runs there
/// to completion even if the process is killed meanwhile (the kill takes effect
/// at once; the result is dropped when it comes back), so `fn` must own what it
/// uses (capture by value or shared_ptr) rather than refer to the process's
/// local variables. The node starts blocking threads as work needs them, up to
/// `node_options::blocking_threads`, and lets idle ones go; further work queues.
/// Destroying the node waits for work already running.
template <class F>
blocking_awaiter<std::decay_t<F>> blocking(F&& fn) {
  static_assert(std::is_invocable_v<std::decay_t<F>&>, "otter::blocking: the function must take no arguments");
  return blocking_awaiter<std::decay_t<F>>(std::decay_t<F>(std::forward<F>(fn)));
}

} // namespace otter
