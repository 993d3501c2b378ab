#pragma once
// A hierarchical timing wheel: O(1) arm and cancel, for the many timeouts that
// are armed and then cancelled because the awaited message came first.

#include <cstdint>
#include <optional>

#include <otter/detail/timer_node.hpp>

namespace otter::detail {

/// Time is counted in ticks. Level L has 64 slots of 64^L ticks each; a timer
/// sits at the level whose span covers its distance, and moves down a level
/// (cascades) when its slot comes round. Timers further than 64^4 ticks away
/// sit in the top level and are re-placed until their deadline is in range.
/// Bitmaps of occupied slots let `advance` skip empty time and `next_expiry`
/// answer without scanning.
class timer_wheel {
public:
  timer_wheel() noexcept;
  timer_wheel(const timer_wheel&) = delete;
  timer_wheel& operator=(const timer_wheel&) = delete;

  /// The tick up to which every timer has fired.
  std::uint64_t now() const noexcept { return now_; }
  /// Sets the current tick of an empty wheel (the starting time).
  void reset(std::uint64_t tick) noexcept { now_ = tick; }

  /// Arms `t` for `t->deadline`; a deadline not after now() fires at the next advance.
  void insert(timer_node* t) noexcept;
  /// Disarms `t` if armed.
  void erase(timer_node* t) noexcept;

  /// Moves time to `tick`, firing (in deadline order) every timer due by then.
  /// Timers may arm or cancel timers from their `fire`.
  void advance(std::uint64_t tick) noexcept;

  /// A tick at or before the earliest deadline, at which `advance` has work to do;
  /// empty when no timer is armed.
  std::optional<std::uint64_t> next_expiry() const noexcept;

  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }

private:
  static constexpr int levels = 4;
  static constexpr int slot_bits = 6;
  static constexpr int slots = 1 << slot_bits;

  void place(timer_node* t) noexcept; // may use the current tick's slot
  void cascade(int level) noexcept;
  void fire_slot(int slot) noexcept;
  void unlink(timer_node* t, int level, int slot) noexcept;

  struct slot_ref {
    int level;
    int slot;
  };
  slot_ref where(std::uint64_t deadline) const noexcept;

  timer_node heads_[levels][slots]; // circular lists; a head points to itself when empty
  std::uint64_t occupied_[levels] = {};
  std::uint64_t now_ = 0;
  std::size_t count_ = 0;
};

} // namespace otter::detail
