#pragma once
// A scheduler's inbox: the lock-free queue through which other threads hand it
// envelopes (messages, signals, spawns).

#include <atomic>

#include <otter/detail/envelope.hpp>

namespace otter::detail {

/// Many producers, one consumer. Producers push whole chains with one CAS; the
/// consumer takes everything at once with one exchange. A producer's chains
/// come out in the order it pushed them, which is what keeps messages between
/// one sender and one receiver in order across cores.
class inbox {
public:
  /// Pushes a chain linked newest → oldest through `next` (the order in which a
  /// sender accumulates it by prepending). Any thread.
  void push(envelope* newest, envelope* oldest) noexcept {
    envelope* top = top_.load(std::memory_order_relaxed);
    do {
      oldest->next = top;
    } while (!top_.compare_exchange_weak(top, newest, std::memory_order_seq_cst,
                                         std::memory_order_relaxed));
  }

  /// Takes every queued envelope, oldest first (owner thread).
  envelope* take_all() noexcept {
    envelope* e = top_.exchange(nullptr, std::memory_order_acquire);
    // The stack holds the newest first; reverse it into arrival order.
    envelope* fifo = nullptr;
    while (e != nullptr) {
      envelope* next = e->next;
      e->next = fifo;
      fifo = e;
      e = next;
    }
    return fifo;
  }

  bool empty() const noexcept { return top_.load(std::memory_order_seq_cst) == nullptr; }

private:
  alignas(64) std::atomic<envelope*> top_{nullptr};
  [[maybe_unused]] char pad_[64 - sizeof(std::atomic<envelope*>)]; // keeps neighbours off the cache line
};

} // namespace otter::detail
