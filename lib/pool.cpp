// Size-classed pools: per-thread free lists on scheduler threads (the inline
// fast paths in pool.hpp), and a shared depot for everyone else and for moving
// surplus between threads.

#include <otter/detail/pool.hpp>

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// Sanitizer builds use the system allocator, so that ASan sees every
// use-after-free and TSan every race on recycled memory. Threads then never
// attach, which sends the inline fast paths here every time.
#define OTTER_POOL_DISABLED 1
#endif

namespace otter::detail {

constinit thread_local pool_cache tl_pool{};

namespace {

using block = pool_cache::block;
constexpr std::size_t class_count = pool_cache::classes;
constexpr std::uint32_t batch_size = pool_cache::batch;
// Blocks are carved from spans of 64 KiB, cut from 2 MiB arenas that the
// kernel may back with huge pages: spawning a million processes then costs a
// few hundred page faults instead of tens of thousands.
constexpr std::size_t span_bytes = 64 * 1024;
constexpr std::size_t arena_bytes = 2 * 1024 * 1024;

constexpr std::size_t class_of(std::size_t size) noexcept { return (size - 1) / pool_cache::granule; }
constexpr std::size_t size_of_class(std::size_t c) noexcept { return (c + 1) * pool_cache::granule; }

struct chain {
  block* head = nullptr;
  std::uint32_t count = 0;

  void push(block* b) noexcept {
    b->next = head;
    head = b;
    ++count;
  }
  block* pop() noexcept {
    block* b = head;
    head = b->next;
    --count;
    return b;
  }
};

// Shared by all threads; guarded by `mutex`. Never freed: blocks may still be
// in use by detached threads when static destructors run.
struct depot {
  std::mutex mutex;
  std::vector<chain> full[class_count]; // chains of about batch_size blocks
  chain loose[class_count];             // blocks returned one by one
  std::vector<void*> arenas;            // every arena ever made (keeps them reachable)
  unsigned char* arena_next = nullptr;  // the unused rest of the newest arena
  std::size_t arena_left = 0;

  // With the mutex held: a chain of free blocks of class c, carving if need be.
  chain take(std::size_t c) {
    if (!full[c].empty()) {
      chain ch = full[c].back();
      full[c].pop_back();
      return ch;
    }
    if (loose[c].count > 0) return std::exchange(loose[c], chain{});
    return carve(c);
  }

  void give(std::size_t c, chain ch) { full[c].push_back(ch); }

  void give_one(std::size_t c, block* b) {
    loose[c].push(b);
    if (loose[c].count >= batch_size) full[c].push_back(std::exchange(loose[c], chain{}));
  }

  chain carve(std::size_t c) {
    if (arena_left < span_bytes) new_arena();
    unsigned char* base = arena_next;
    arena_next += span_bytes;
    arena_left -= span_bytes;
    chain ch;
    const std::size_t size = size_of_class(c);
    // Pushed back to front so that the chain hands out ascending addresses.
    for (std::size_t off = (span_bytes / size - 1) * size;; off -= size) {
      ch.push(reinterpret_cast<block*>(base + off));
      if (off == 0) break;
    }
    return ch;
  }

  void new_arena() {
    // Map twice the size and trim, to get an arena aligned to the huge-page size.
    void* raw = ::mmap(nullptr, 2 * arena_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc{};
    const auto start = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t aligned = (start + arena_bytes - 1) & ~(std::uintptr_t{arena_bytes} - 1);
    if (aligned > start) ::munmap(raw, aligned - start);
    if (const std::uintptr_t tail = start + 2 * arena_bytes - (aligned + arena_bytes); tail > 0)
      ::munmap(reinterpret_cast<void*>(aligned + arena_bytes), tail);
    auto* arena = reinterpret_cast<unsigned char*>(aligned);
    (void)::madvise(arena, arena_bytes, MADV_HUGEPAGE); // a hint; fine if refused
    arenas.push_back(arena);
    arena_next = arena;
    arena_left = arena_bytes;
  }
};

depot& the_depot() {
  static depot* d = new depot; // intentionally immortal, see above
  return *d;
}

} // namespace

void* pool_allocate_slow(std::size_t size) {
#ifdef OTTER_POOL_DISABLED
  return ::operator new(size);
#else
  if (size == 0 || size > pool_cache::max_size) return ::operator new(size);
  const std::size_t c = class_of(size);
  pool_cache& pc = tl_pool;
  depot& d = the_depot();
  std::lock_guard lock(d.mutex);
  if (!pc.attached) { // a thread without free lists takes one block
    if (d.loose[c].count == 0) d.loose[c] = d.take(c);
    return d.loose[c].pop();
  }
  chain ch = d.take(c); // refill this thread's list
  block* b = ch.pop();
  pc.head[c] = ch.head;
  pc.count[c] = ch.count;
  return b;
#endif
}

void pool_deallocate_slow(void* p, std::size_t size) noexcept {
#ifdef OTTER_POOL_DISABLED
  ::operator delete(p, size);
#else
  if (size == 0 || size > pool_cache::max_size) {
    ::operator delete(p, size);
    return;
  }
  const std::size_t c = class_of(size);
  auto* b = static_cast<block*>(p);
  pool_cache& pc = tl_pool;
  depot& d = the_depot();
  if (!pc.attached) {
    std::lock_guard lock(d.mutex);
    d.give_one(c, b);
    return;
  }
  // This thread's list is full: hand a batch back so that memory freed here
  // (envelopes sent from another core, say) flows back to the threads that
  // allocate it.
  chain ch;
  ch.push(b);
  while (ch.count < batch_size) {
    block* x = pc.head[c];
    pc.head[c] = x->next;
    --pc.count[c];
    ch.push(x);
  }
  std::lock_guard lock(d.mutex);
  d.give(c, ch);
#endif
}

void pool_attach_thread() noexcept {
#ifndef OTTER_POOL_DISABLED
  tl_pool.attached = true;
#endif
}

void pool_detach_thread() noexcept {
  pool_cache& pc = tl_pool;
  if (!pc.attached) return;
  depot& d = the_depot();
  std::lock_guard lock(d.mutex);
  for (std::size_t c = 0; c < class_count; ++c) {
    while (block* b = pc.head[c]) {
      pc.head[c] = b->next;
      d.give_one(c, b);
    }
    pc.count[c] = 0;
  }
  pc.attached = false;
}

} // namespace otter::detail
