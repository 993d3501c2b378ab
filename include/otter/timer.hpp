#pragma once
// Timers: send_after / cancel_timer, and sleep.

#include <otter/detail/config.hpp>

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <otter/detail/envelope.hpp>
#include <otter/detail/pcb.hpp>
#include <otter/detail/runtime.hpp>
#include <otter/detail/timer_node.hpp>
#include <otter/pid.hpp>

namespace otter {

/// Names a timer started by `send_after`. A small value type; the default one
/// names no timer.
class timer_ref {
public:
  constexpr timer_ref() noexcept = default;
  static constexpr timer_ref from_bits(std::uint64_t bits) noexcept {
    timer_ref r;
    r.bits_ = bits;
    return r;
  }
  constexpr std::uint64_t bits() const noexcept { return bits_; }
  constexpr explicit operator bool() const noexcept { return bits_ != 0; }
  friend constexpr bool operator==(timer_ref, timer_ref) noexcept = default;

private:
  std::uint64_t bits_ = 0;
};

namespace detail {
timer_ref start_send_timer(std::chrono::nanoseconds after, pid to, envelope* message);
}

/// Sends `message` to `to` after `delay` (never earlier; timers tick every
/// millisecond). The timer lives on the caller's scheduler and does not die
/// with the caller, as in Erlang; the message is dropped if `to` has exited.
template <class Rep, class Period, class T>
timer_ref send_after(std::chrono::duration<Rep, Period> delay, pid to, T&& message) {
  return detail::start_send_timer(std::chrono::ceil<std::chrono::nanoseconds>(delay), to,
                                  detail::make_message<std::decay_t<T>>(std::forward<T>(message)));
}

/// Cancels a timer started by `send_after`. Returns true if it was cancelled
/// before it fired: its message will not be sent. False if it already fired or
/// was cancelled. Called on another scheduler than the one that started the
/// timer, the cancel is carried out asynchronously and the result is false.
bool cancel_timer(timer_ref timer);

/// The node's monotonic clock: time since an arbitrary start, on the real clock
/// or, for a node with virtual_time, the virtual one. Like Erlang's
/// erlang:monotonic_time(). Call on a node's thread.
std::chrono::nanoseconds monotonic_time();

/// Awaitable returned by `sleep`.
class [[nodiscard("otter::sleep does nothing until you co_await it")]] sleep_awaiter {
public:
  explicit sleep_awaiter(std::chrono::nanoseconds d) noexcept : duration_(d) {}
  sleep_awaiter(const sleep_awaiter&) = delete;
  sleep_awaiter& operator=(const sleep_awaiter&) = delete;
  ~sleep_awaiter() { detail::disarm_timer(&timer_); }

  bool await_ready() const noexcept { return duration_.count() <= 0; }
  void await_suspend(std::coroutine_handle<> h) {
    detail::pcb& p = detail::current_process("otter::sleep");
    p.resume_point = h;
    timer_.process = &p;
    timer_.fire = &on_fire;
    detail::arm_timer(&timer_, duration_);
    detail::suspend_waiting(p, nullptr);
  }
  void await_resume() const noexcept {}

private:
  struct node : detail::timer_node {
    detail::pcb* process = nullptr;
  };
  static void on_fire(detail::timer_node* t) noexcept { detail::wake(*static_cast<node*>(t)->process); }

  std::chrono::nanoseconds duration_;
  node timer_;
};

/// Suspends the calling process for `d` (at least; rounded up to the next
/// millisecond tick). Messages arriving meanwhile stay queued. Resumes on the
/// same core. If the process is killed while asleep, the timer is cancelled.
template <class Rep, class Period>
sleep_awaiter sleep(std::chrono::duration<Rep, Period> d) noexcept {
  return sleep_awaiter{std::chrono::ceil<std::chrono::nanoseconds>(d)};
}

} // namespace otter
