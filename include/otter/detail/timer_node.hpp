#pragma once
// An intrusive timer, embedded in the awaiter or record that waits for it.

#include <otter/detail/config.hpp>

#include <chrono>
#include <cstdint>

namespace otter::detail {

struct timer_node {
  timer_node* prev = nullptr; // null while not armed
  timer_node* next = nullptr;
  std::uint64_t deadline = 0; // in wheel ticks
  /// Called on the scheduler thread that armed the timer, once, when it expires.
  void (*fire)(timer_node*) noexcept = nullptr;

  bool armed() const noexcept { return prev != nullptr; }
};

/// Arms `t` on the current scheduler to fire after `after` (rounded up to the
/// wheel's tick: timers never fire early).
void arm_timer(timer_node* t, std::chrono::nanoseconds after);
void disarm_armed_timer(timer_node* t) noexcept;

/// Disarms `t` if armed. Safe to call twice.
inline void disarm_timer(timer_node* t) noexcept {
  if (t->armed()) disarm_armed_timer(t);
}

} // namespace otter::detail
