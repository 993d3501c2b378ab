#pragma once
// Size-classed memory pools for process frames and message envelopes.

#include <otter/detail/config.hpp>

#include <cstddef>
#include <cstdint>

namespace otter::detail {

/// A scheduler thread's free lists, one per 16-byte size class up to 1 KiB.
struct pool_cache {
  static constexpr std::size_t granule = 16;
  static constexpr std::size_t max_size = 1024;
  static constexpr std::size_t classes = max_size / granule;
  /// Blocks move between a thread's lists and the shared depot in batches of this many.
  static constexpr std::uint32_t batch = 256;

  struct block {
    block* next;
  };
  bool attached = false; // only scheduler threads keep free lists
  block* head[classes] = {};
  std::uint32_t count[classes] = {};
};

extern constinit thread_local pool_cache tl_pool;

void* pool_allocate_slow(std::size_t size);
void pool_deallocate_slow(void* p, std::size_t size) noexcept;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// Sanitizer builds use the system allocator (see pool.cpp), so there is no
// fast path to inline. (It also sidesteps a g++ 12 UBSan false positive on
// thread_local access inlined into coroutine ramps.)
[[nodiscard]] inline void* pool_allocate(std::size_t size) { return pool_allocate_slow(size); }
inline void pool_deallocate(void* p, std::size_t size) noexcept { pool_deallocate_slow(p, size); }
#else
/// Memory for a coroutine frame or an envelope. On a scheduler thread this is a
/// pop from a per-thread free list; other threads share a locked depot. Blocks
/// may be freed on any thread: per-thread lists hand surplus back in batches.
[[nodiscard]] inline void* pool_allocate(std::size_t size) {
  if (size - 1 < pool_cache::max_size) {
    pool_cache& pc = tl_pool;
    const std::size_t c = (size - 1) / pool_cache::granule;
    if (pool_cache::block* b = pc.head[c]) [[likely]] {
      pc.head[c] = b->next;
      --pc.count[c];
      return b;
    }
  }
  return pool_allocate_slow(size);
}

/// `size` must be the size given to `pool_allocate`.
inline void pool_deallocate(void* p, std::size_t size) noexcept {
  pool_cache& pc = tl_pool;
  if (size - 1 < pool_cache::max_size && pc.attached) [[likely]] {
    const std::size_t c = (size - 1) / pool_cache::granule;
    if (pc.count[c] < 2 * pool_cache::batch) [[likely]] {
      auto* b = static_cast<pool_cache::block*>(p);
      b->next = pc.head[c];
      pc.head[c] = b;
      ++pc.count[c];
      return;
    }
  }
  pool_deallocate_slow(p, size);
}
#endif

/// Gives this thread its own free lists (scheduler threads call it at start).
void pool_attach_thread() noexcept;
/// Returns this thread's free lists to the shared depot.
void pool_detach_thread() noexcept;

} // namespace otter::detail
