#pragma once
// The state behind a bounded mailbox (otter/mailbox_limit.hpp).
//
// The receiver's scheduler counts what is in the mailbox (`queued`) and applies
// drop_newest / drop_oldest exactly as messages arrive, on its own thread.
// Refusing or holding back a sender (fail / block) must be decided on the
// sender's thread, before the message travels: such gauges are also listed in
// the node's table, where senders on other cores find them under a shared
// lock, reserve a place (`in_transit`) and mark the envelope as admitted.

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>

#include <otter/detail/envelope.hpp>
#include <otter/mailbox_limit.hpp>
#include <otter/pid.hpp>

namespace otter::detail {

class scheduler;
struct pcb;
struct process_ext;

struct mailbox_gauge {
  std::uint32_t limit = 0;
  on_full policy = on_full::drop_newest;
  bool listed = false; // in the node's table (policy fail or block)

  std::atomic<std::uint32_t> queued{0};     // counted messages in the mailbox
  std::atomic<std::uint32_t> in_transit{0}; // admitted on other cores, not yet arrived
  std::uint64_t dropped = 0;                // receiver's thread only

  // Senders waiting for room (block), oldest first.
  struct waiter {
    pid who;
    std::uint64_t token;
  };
  std::mutex waiters_mutex;
  std::deque<waiter> waiters;
  std::atomic<bool> has_waiters{false};

  bool full() const noexcept {
    return queued.load(std::memory_order_seq_cst) + in_transit.load(std::memory_order_seq_cst) >= limit;
  }
};

/// In transit between cores, an envelope's destination keeps its slot and
/// generation; the scheduler byte is implied by the inbox it sits in. A
/// sender's gate sets that byte to this value (no scheduler has it: at most
/// 255 exist) to say "admitted, counted in in_transit".
inline constexpr std::uint64_t admitted_marker = 0xff;

/// Whether a bound applies to the envelope: messages and gen_server requests,
/// but not replies, exit or DOWN messages, or runtime signals.
inline bool counted(const envelope* e) noexcept {
  return e->tag->on_arrival == nullptr && e->tag->kind != message_kind::reply && !e->tag->unbounded;
}

enum class arrival : std::uint8_t { push, dropped, refused };

/// On the receiver's scheduler, for a bounded process: what to do with `e`
/// arriving for `p` (`to_bits` as it travelled). `dropped` destroyed it;
/// `refused` (only if `refusable`) leaves it to the sender.
arrival bounded_arrival(pcb& p, envelope* e, std::uint64_t to_bits, bool refusable) noexcept;

/// On the sender's scheduler: a refusable send to a process of another core
/// that has a listed gauge. False: refused (the envelope is untouched).
/// True: sent (or routed as usual when there is no gauge).
bool gated_remote_send(scheduler& here, pid to, envelope* e);

/// The receiver took `e` out of its bounded mailbox.
void bounded_taken(pcb& p, envelope* e) noexcept;

/// A bounded process exits: unlist its gauge, release its waiting senders.
/// (`ext` is `p`'s, which exit_process has taken from it already.)
void release_mailbox_bound(scheduler& s, pcb& p, process_ext* ext) noexcept;

/// Installs a bound on a process that is not running yet, or the running one.
void install_mailbox_bound(scheduler& s, pcb& p, mailbox_limit limit);

} // namespace otter::detail
