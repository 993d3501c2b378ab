#pragma once
// A scheduler's table of live things (processes, timers) indexed by slot, with
// a generation per slot so that stale handles never find a newer occupant.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

namespace otter::detail {

/// Owned by one scheduler thread, except `reserve_remote`, which any thread may
/// call to claim a slot that the owner fills in later (spawning onto another core).
template <class T>
class slot_table {
public:
  static constexpr std::uint32_t max_slots = 1u << 24;

  struct handle {
    std::uint32_t slot;
    std::uint32_t generation;
  };

  /// The occupant of `slot` if its generation is `generation`, else null.
  T* find(std::uint32_t slot, std::uint32_t generation) const noexcept {
    const entry* seg = segments_[slot >> segment_bits].get();
    if (seg == nullptr) return nullptr;
    const entry& e = seg[slot & segment_mask];
    return e.generation == generation ? e.item : nullptr;
  }

  /// A free slot for a local occupant; its current generation names it.
  handle acquire() {
    if (!free_.empty()) {
      std::uint32_t s = free_.back();
      free_.pop_back();
      return {s, at(s).generation};
    }
    return fresh();
  }

  /// A slot for an occupant that will be installed later by the owner. Any thread.
  handle reserve_remote() {
    {
      std::lock_guard lock(remote_mutex_);
      if (!remote_free_.empty()) {
        handle h = remote_free_.back();
        remote_free_.pop_back();
        remote_available_.store(static_cast<std::uint32_t>(remote_free_.size()),
                                std::memory_order_relaxed);
        return h;
      }
    }
    return fresh_unchecked();
  }

  /// Keeps some freed slots where remote spawners can take them (owner only),
  /// so that spawning onto this core reuses slots instead of growing the table.
  void refill_remote() {
    if (remote_available_.load(std::memory_order_relaxed) >= remote_batch ||
        free_.size() < remote_batch)
      return;
    std::lock_guard lock(remote_mutex_);
    while (remote_free_.size() < 2 * remote_batch && !free_.empty()) {
      std::uint32_t s = free_.back();
      free_.pop_back();
      remote_free_.push_back({s, at(s).generation});
    }
    remote_available_.store(static_cast<std::uint32_t>(remote_free_.size()),
                            std::memory_order_relaxed);
  }

  void install(handle h, T* item) {
    entry& e = at(h.slot);
    e.item = item;
    e.generation = h.generation;
    ++live_;
  }

  /// Empties the slot: `find` no longer finds its occupant. `release` must follow.
  void vacate(std::uint32_t slot) noexcept { at_existing(slot).item = nullptr; }

  /// Empties the slot and makes it reusable under the next generation. A slot
  /// whose generation would wrap is retired, so a handle never names two occupants.
  void release(std::uint32_t slot) noexcept {
    entry& e = at_existing(slot);
    e.item = nullptr;
    --live_;
    if (e.generation == UINT32_MAX) return;
    ++e.generation;
    free_.push_back(slot);
  }

  std::size_t live() const noexcept { return live_; }

  /// Calls f(T*) for every occupant (owner only; f must not install or release).
  template <class F>
  void for_each(F&& f) const {
    std::uint32_t n = std::min(next_fresh_.load(std::memory_order_acquire), max_slots);
    for (std::uint32_t s = 0; s < n; ++s) {
      const entry* seg = segments_[s >> segment_bits].get();
      if (seg == nullptr) {
        s |= segment_mask;
        continue;
      }
      if (T* item = seg[s & segment_mask].item) f(item);
    }
  }

private:
  static constexpr std::uint32_t segment_bits = 12;
  static constexpr std::uint32_t segment_size = 1u << segment_bits;
  static constexpr std::uint32_t segment_mask = segment_size - 1;
  static constexpr std::uint32_t remote_batch = 64;

  struct entry {
    T* item = nullptr;
    std::uint32_t generation = 1; // generation 0 is never used, so no handle is all zeros
  };

  handle fresh() {
    handle h = fresh_unchecked();
    at(h.slot); // materialise the segment now, on the owner thread
    return h;
  }
  handle fresh_unchecked() {
    std::uint32_t s = next_fresh_.fetch_add(1, std::memory_order_acq_rel);
    if (s >= max_slots) throw std::length_error("otter: a scheduler's table is full (16M entries)");
    return {s, 1};
  }

  entry& at_existing(std::uint32_t slot) noexcept {
    return segments_[slot >> segment_bits][slot & segment_mask];
  }
  entry& at(std::uint32_t slot) {
    auto& seg = segments_[slot >> segment_bits];
    if (!seg) seg = std::make_unique<entry[]>(segment_size);
    return seg[slot & segment_mask];
  }

  std::unique_ptr<entry[]> segments_[max_slots / segment_size];
  std::vector<std::uint32_t> free_;
  std::size_t live_ = 0;
  std::atomic<std::uint32_t> next_fresh_{0};
  std::atomic<std::uint32_t> remote_available_{0};
  std::mutex remote_mutex_;
  std::vector<handle> remote_free_;
};

} // namespace otter::detail
