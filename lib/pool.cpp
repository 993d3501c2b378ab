// Size-classed pools: per-thread free lists on scheduler threads, a shared
// depot for everyone else and for moving surplus between threads.

#include <otter/detail/pool.hpp>

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// Sanitizer builds use the system allocator, so that ASan sees every
// use-after-free and TSan every race on recycled memory.
#define OTTER_POOL_DISABLED 1
#endif

namespace otter::detail {
namespace {

constexpr std::size_t granule = 16;
constexpr std::size_t max_pooled = 1024;
constexpr std::size_t class_count = max_pooled / granule;
// Blocks move between a thread and the depot in batches of this many.
constexpr std::uint32_t batch_size = 256;
constexpr std::size_t chunk_bytes = 64 * 1024;

constexpr std::size_t class_of(std::size_t size) noexcept { return (size - 1) / granule; }
constexpr std::size_t size_of_class(std::size_t c) noexcept { return (c + 1) * granule; }

struct free_block {
  free_block* next;
};

struct chain {
  free_block* head = nullptr;
  free_block* tail = nullptr;
  std::uint32_t count = 0;

  void push(free_block* b) noexcept {
    b->next = head;
    head = b;
    if (tail == nullptr) tail = b;
    ++count;
  }
};

// Shared by all threads; guarded by `mutex`. Never freed: blocks may still be
// in use by detached threads when static destructors run.
struct depot {
  std::mutex mutex;
  std::vector<chain> full[class_count];   // chains of batch_size blocks
  chain loose[class_count];               // blocks freed one by one
  std::vector<void*> chunks;              // every chunk ever carved (keeps them reachable)

  chain take(std::size_t c) {
    std::lock_guard lock(mutex);
    if (!full[c].empty()) {
      chain ch = full[c].back();
      full[c].pop_back();
      return ch;
    }
    if (loose[c].count > 0) return std::exchange(loose[c], chain{});
    return carve(c);
  }

  void give(std::size_t c, chain ch) {
    std::lock_guard lock(mutex);
    full[c].push_back(ch);
  }

  void give_one(std::size_t c, free_block* b) {
    std::lock_guard lock(mutex);
    loose[c].push(b);
    if (loose[c].count >= batch_size) full[c].push_back(std::exchange(loose[c], chain{}));
  }

  // Called with the mutex held.
  chain carve(std::size_t c) {
    void* mem = std::malloc(chunk_bytes);
    if (mem == nullptr) throw std::bad_alloc{};
    chunks.push_back(mem);
    chain ch;
    const std::size_t size = size_of_class(c);
    auto* base = static_cast<unsigned char*>(mem);
    for (std::size_t off = 0; off + size <= chunk_bytes; off += size)
      ch.push(reinterpret_cast<free_block*>(base + off));
    return ch;
  }
};

depot& the_depot() {
  static depot* d = new depot; // intentionally immortal, see above
  return *d;
}

struct thread_cache {
  bool attached;
  free_block* head[class_count];
  std::uint32_t count[class_count];
};

constinit thread_local thread_cache tl_cache{};

} // namespace

void* pool_allocate(std::size_t size) {
#ifdef OTTER_POOL_DISABLED
  return ::operator new(size);
#else
  if (size > max_pooled || size == 0) return ::operator new(size);
  const std::size_t c = class_of(size);
  thread_cache& tc = tl_cache;
  if (!tc.attached) [[unlikely]] {
    {
      depot& d = the_depot();
      std::lock_guard lock(d.mutex);
      if (d.loose[c].count == 0) {
        if (!d.full[c].empty()) {
          d.loose[c] = d.full[c].back();
          d.full[c].pop_back();
        } else {
          d.loose[c] = d.carve(c);
        }
      }
      free_block* b = d.loose[c].head;
      d.loose[c].head = b->next;
      if (--d.loose[c].count == 0) d.loose[c].tail = nullptr;
      return b;
    }
  }
  free_block* b = tc.head[c];
  if (b == nullptr) [[unlikely]] {
    chain ch = the_depot().take(c);
    tc.head[c] = ch.head;
    tc.count[c] = ch.count;
    b = ch.head;
  }
  tc.head[c] = b->next;
  --tc.count[c];
  return b;
#endif
}

void pool_deallocate(void* p, std::size_t size) noexcept {
#ifdef OTTER_POOL_DISABLED
  ::operator delete(p, size);
#else
  if (size > max_pooled || size == 0) {
    ::operator delete(p, size);
    return;
  }
  const std::size_t c = class_of(size);
  auto* b = static_cast<free_block*>(p);
  thread_cache& tc = tl_cache;
  if (!tc.attached) [[unlikely]] {
    the_depot().give_one(c, b);
    return;
  }
  b->next = tc.head[c];
  tc.head[c] = b;
  if (++tc.count[c] >= 2 * batch_size) [[unlikely]] {
    // Hand a batch back so that memory freed here (say, envelopes sent from
    // another core) flows back to the threads that allocate it.
    chain ch;
    for (std::uint32_t i = 0; i < batch_size; ++i) {
      free_block* x = tc.head[c];
      tc.head[c] = x->next;
      ch.push(x);
    }
    tc.count[c] -= batch_size;
    the_depot().give(c, ch);
  }
#endif
}

void pool_attach_thread() noexcept { tl_cache.attached = true; }

void pool_detach_thread() noexcept {
  thread_cache& tc = tl_cache;
  if (!tc.attached) return;
  depot& d = the_depot();
  std::lock_guard lock(d.mutex);
  for (std::size_t c = 0; c < class_count; ++c) {
    while (free_block* b = tc.head[c]) {
      tc.head[c] = b->next;
      d.loose[c].push(b);
    }
    tc.count[c] = 0;
    if (d.loose[c].count >= batch_size) d.full[c].push_back(std::exchange(d.loose[c], chain{}));
  }
  tc.attached = false;
}

} // namespace otter::detail
