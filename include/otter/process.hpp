#pragma once
// otter::process — the coroutine type of a process body — plus self() and yield().

#include <otter/detail/config.hpp>

#include <coroutine>
#include <cstddef>
#include <utility>

#include <otter/detail/pcb.hpp>
#include <otter/detail/pool.hpp>
#include <otter/detail/runtime.hpp>
#include <otter/pid.hpp>

namespace otter {

namespace detail {
/// Records the escaping exception as the process's exit reason (an `error`).
void record_exception(pcb& p) noexcept;
} // namespace detail

/// The return type of a process body: a coroutine that `spawn` (or `node::run`)
/// starts as a new process.
///
/// ```
/// otter::process greeter(otter::pid parent) {
///   auto name = co_await otter::receive<std::string>();
///   otter::send(parent, "hello, " + name);
/// }
/// ```
///
/// The body runs on one scheduler thread for its whole life. It exits with
/// reason `normal` when it returns and with an `error` reason (the exception's
/// type and `what()`) when an exception escapes it. A `process` that is never
/// spawned is destroyed unstarted.
class [[nodiscard(
    "an otter::process does nothing until it is spawned: pass the function and its arguments to otter::spawn")]] process {
public:
  struct promise_type;
  using handle_type = std::coroutine_handle<promise_type>;

  process(process&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  process& operator=(process&&) = delete;
  ~process() {
    if (handle_) handle_.destroy();
  }

  /// Hands the unstarted coroutine to the caller (the runtime).
  handle_type release() noexcept { return std::exchange(handle_, {}); }

private:
  explicit process(handle_type h) noexcept : handle_(h) {}
  handle_type handle_;
};

struct process::promise_type : detail::pcb {
  static void* operator new(std::size_t size) { return detail::pool_allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept {
    detail::pool_deallocate(p, size);
  }

  process get_return_object() noexcept { return process{handle_type::from_promise(*this)}; }
  std::suspend_always initial_suspend() const noexcept { return {}; }

  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    // The scheduler sees `exited` when resume() returns and destroys the frame.
    void await_suspend(handle_type h) const noexcept { h.promise().state = detail::run_state::exited; }
    void await_resume() const noexcept {}
  };
  final_awaiter final_suspend() const noexcept { return {}; }

  void return_void() const noexcept {}
  void unhandled_exception() noexcept { detail::record_exception(*this); }
};

/// The pid of the calling process, or the null pid outside a process.
inline pid self() noexcept {
  detail::pcb* p = detail::tl_current;
  return p ? p->self : pid{};
}

/// Awaitable returned by `yield()`.
struct [[nodiscard("otter::yield does nothing until you co_await it")]] yield_awaiter {
  detail::pcb* process;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const noexcept {
    process->resume_point = h;
    detail::requeue(*process);
  }
  void await_resume() const noexcept {}
};

/// Gives up the core: the calling process goes to the back of its scheduler's
/// run queue and resumes, on the same core, after the processes ready before it.
/// If the process is killed while it waits, its coroutine chain is destroyed.
inline yield_awaiter yield() { return {&detail::current_process("otter::yield")}; }

} // namespace otter
