#pragma once
// The process control block. It is the base of a process coroutine's promise,
// so a process is one allocation: frame, control block and mailbox head together.

#include <otter/detail/config.hpp>

#include <coroutine>
#include <cstdint>

#include <otter/detail/envelope.hpp>
#include <otter/pid.hpp>

namespace otter::detail {

struct process_ext; // links, monitors, exit reason...: allocated only when needed
struct pcb;

/// Moves every mark of `p` that sits at the link `from` (inside an envelope
/// being taken out of the mailbox) to `to`, the link that replaces it.
void move_marks(pcb& p, envelope** from, envelope** to) noexcept;
/// Keeps the count of a bounded mailbox (otter/mailbox_limit.hpp) when `e` is taken out.
void note_bounded_take(pcb& p, envelope* e) noexcept;
/// A receive of a bounded process publishes its scan position while active.
void watch_receive_scan(pcb& p, envelope*** scan) noexcept;
void unwatch_receive_scan(pcb& p) noexcept;

/// Installed by a receive that is waiting. Messages delivered while the process
/// waits are offered to `match`, on the process's own scheduler thread; the
/// process is woken only when one matches (no spurious wake-ups, no rescans).
struct receive_waiter {
  bool (*match)(receive_waiter*, envelope*) noexcept;
};

enum class run_state : std::uint8_t {
  embryo,  // created, not yet started
  ready,   // in its scheduler's run queue
  running, // being resumed now
  waiting, // suspended until a message, timer or I/O completion wakes it
  exited,  // reached final suspend; its scheduler destroys it next
};

namespace pcb_flag {
inline constexpr std::uint8_t trap_exit = 1;    // exit signals arrive as messages
inline constexpr std::uint8_t named = 2;        // may have a registered name
inline constexpr std::uint8_t root = 4;         // the process started by node::run
inline constexpr std::uint8_t kill_pending = 8; // an exit signal killed it; tear down
inline constexpr std::uint8_t marked = 16;      // has live mailbox marks (otter::mailbox_mark)
inline constexpr std::uint8_t bounded = 32;     // its mailbox has a bound (otter::mailbox_limit)
} // namespace pcb_flag

struct pcb {
  pcb() noexcept = default;
  pcb(const pcb&) = delete;
  pcb& operator=(const pcb&) = delete;

  pcb* next_ready = nullptr;
  /// The innermost suspended coroutine of the process (a nested task or the body).
  std::coroutine_handle<> resume_point;
  pid self;
  envelope* mailbox_head = nullptr;
  envelope** mailbox_tail = &mailbox_head;
  receive_waiter* waiter = nullptr;
  /// Receives satisfied at once since the process was last resumed by its scheduler.
  std::uint32_t reductions = 0;
  run_state state = run_state::embryo;
  std::uint8_t flags = 0;
  process_ext* ext = nullptr;

  void push_message(envelope* e) noexcept {
    e->next = nullptr;
    *mailbox_tail = e;
    mailbox_tail = &e->next;
  }
  /// Unlinks the envelope `*link` from the mailbox.
  envelope* take_message(envelope** link) noexcept {
    envelope* e = *link;
    *link = e->next;
    if (mailbox_tail == &e->next) mailbox_tail = link;
    if ((flags & (pcb_flag::marked | pcb_flag::bounded)) != 0) [[unlikely]] {
      // A mark at the taken envelope's link now belongs at the link before it.
      if ((flags & pcb_flag::marked) != 0) move_marks(*this, &e->next, link);
      if ((flags & pcb_flag::bounded) != 0) note_bounded_take(*this, e);
    }
    return e;
  }
};

} // namespace otter::detail
