#pragma once
// otter::task<T> — a coroutine awaited from inside a process.

#include <otter/detail/config.hpp>

#include <coroutine>
#include <cstddef>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

#include <otter/detail/pool.hpp>

namespace otter {

template <class T = void>
class task;

namespace detail {

template <class T>
struct task_result {
  std::variant<std::monostate, T, std::exception_ptr> value;
  template <class U>
  void return_value(U&& v) {
    value.template emplace<1>(std::forward<U>(v));
  }
  void unhandled_exception() noexcept { value.template emplace<2>(std::current_exception()); }
  T take() {
    if (value.index() == 2) std::rethrow_exception(std::get<2>(value));
    return std::move(std::get<1>(value));
  }
};

template <>
struct task_result<void> {
  std::exception_ptr error;
  void return_void() noexcept {}
  void unhandled_exception() noexcept { error = std::current_exception(); }
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

} // namespace detail

/// A lazily started coroutine returning T, for structuring a process's code:
///
/// ```
/// otter::task<int> next_number() { co_return co_await otter::receive<int>(); }
/// otter::process adder() { int a = co_await next_number(); ... }
/// ```
///
/// Awaiting a task starts it and transfers control to it directly (symmetric
/// transfer, no trip through the scheduler); when it finishes, the awaiting
/// coroutine resumes on the same thread. A task belongs to the process that
/// awaits it: `receive`, `sleep` and I/O inside it suspend that process. If the
/// process is killed while the task is suspended, the whole chain of frames is
/// destroyed, innermost first, running destructors. Exceptions propagate to the
/// awaiter. A task is awaited at most once and is move-only.
template <class T>
class [[nodiscard("an otter::task does nothing until you co_await it")]] task {
public:
  struct promise_type : detail::task_result<T> {
    std::coroutine_handle<> continuation;

    static void* operator new(std::size_t size) { return detail::pool_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept {
      detail::pool_deallocate(p, size);
    }
    task get_return_object() noexcept {
      return task{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    struct final_awaiter {
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        return h.promise().continuation;
      }
      void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() const noexcept { return {}; }
  };

  task(task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  ~task() {
    if (handle_) handle_.destroy();
  }

  struct awaiter {
    std::coroutine_handle<promise_type> handle;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
      handle.promise().continuation = caller;
      return handle;
    }
    T await_resume() { return handle.promise().take(); }
  };
  awaiter operator co_await() && noexcept { return awaiter{handle_}; }

private:
  explicit task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  std::coroutine_handle<promise_type> handle_;
};

} // namespace otter
