#pragma once
// Size-classed memory pools for process frames and message envelopes.

#include <cstddef>

namespace otter::detail {

/// Memory for a coroutine frame or an envelope. On a scheduler thread this is a
/// pop from a per-thread free list; other threads share a locked depot. Blocks
/// may be freed on any thread: per-thread lists hand surplus back in batches.
[[nodiscard]] void* pool_allocate(std::size_t size);
/// `size` must be the size given to `pool_allocate`.
void pool_deallocate(void* p, std::size_t size) noexcept;

/// Gives this thread its own free lists (scheduler threads call it at start).
void pool_attach_thread() noexcept;
/// Returns this thread's free lists to the shared depot.
void pool_detach_thread() noexcept;

} // namespace otter::detail
