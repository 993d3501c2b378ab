#pragma once
// A scheduler: one pinned thread running the processes of one core, with its
// own io_uring, run queue, timer wheel and inbox.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <otter/detail/envelope.hpp>
#include <otter/detail/pcb.hpp>
#include <otter/detail/timer_node.hpp>
#include <otter/exit_reason.hpp>
#include <otter/pid.hpp>
#include <otter/ref.hpp>
#include <otter/timer.hpp>

#include "inbox.hpp"
#include "mailbox_gauge.hpp"
#include "slot_table.hpp"
#include "timer_wheel.hpp"
#include "uring/ops.hpp"
#include "uring/ring.hpp"

namespace otter::detail {

struct node_state;
struct process_ext;
struct send_timer;

/// Runs on its own thread. Everything here is for that thread only unless
/// marked "any thread".
class scheduler {
public:
  scheduler(node_state& node, unsigned index);
  ~scheduler();
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  unsigned index() const noexcept { return index_; }
  unsigned node_size() const noexcept { return static_cast<unsigned>(outbound_.size()); }
  node_state& node() noexcept { return node_; }

  /// The thread body: sets up the ring and registers the receive buffers,
  /// calls `started` (with the error, if that failed), then loops until the
  /// node stops. If the ring fails while it runs, it fails the node
  /// (node_state::fail), which stops every scheduler.
  void thread_main(const std::function<void(std::exception_ptr)>& started);

  // --- processes
  pcb* find(pid p) const noexcept {
    return p.scheduler() == index_ ? procs_.find(p.slot(), p.generation()) : nullptr;
  }
  /// Gives `p` a pid on this scheduler; `make_ready` then starts it.
  pid install_local(pcb& p);
  /// Undoes `install_local` for a process that will not start after all.
  void forget_local(pcb& p) noexcept;
  /// Any thread: gives `p` a pid on this scheduler (for `adopt` to start).
  pid reserve(pcb& p);
  /// Any thread: sends `p`, given a pid by `reserve`, here to start.
  void adopt(pcb& p);
  /// Installs a process that `adopt` sent here.
  void install_adopted(pcb& p);
  void make_ready(pcb& p) noexcept {
    p.state = run_state::ready;
    p.next_ready = nullptr;
    *runq_tail_ = &p;
    runq_tail_ = &p.next_ready;
  }
  /// Kills every process of this scheduler, silently (node shutdown). Returns how many.
  std::size_t kill_all();

  // --- messages
  /// Routes an envelope from this thread to `to`, here or on another core.
  void deliver(pid to, envelope* e) {
    const unsigned target = to.scheduler();
    if (target == index_) [[likely]]
      deliver_local(to.bits(), e);
    else
      deliver_remote(to, e);
  }
  /// Puts `e` into the mailbox of the local process `to` (pid bits). False only
  /// if `refusable` and a bounded mailbox refuses the sender (policy fail or
  /// block, full): then `e` is still the caller's. Otherwise `e` is consumed.
  bool deliver_local(std::uint64_t to, envelope* e, bool refusable = false) noexcept {
    const pid id = pid::from_bits(to);
    pcb* p = procs_.find(id.slot(), id.generation());
    if (p == nullptr) [[unlikely]] {
      destroy(e); // sending to a dead process is a no-op
      return true;
    }
    if (e->tag->kind == message_kind::reply && !reply_awaited(*p, e)) [[unlikely]] {
      destroy(e); // a late reply: its call gave up waiting
      return true;
    }
    if ((p->flags & pcb_flag::bounded) != 0) [[unlikely]] {
      const arrival a = bounded_arrival(*p, e, to, refusable);
      if (a == arrival::refused) return false;
      if (a == arrival::dropped) return true;
    }
    p->push_message(e);
    if (p->waiter != nullptr && p->waiter->match(p->waiter, e)) {
      p->waiter = nullptr;
      make_ready(*p);
    }
    return true;
  }
  /// A send from a process: like `deliver`, but a bounded mailbox with policy
  /// fail or block that is full refuses it (false; `e` is still the caller's).
  bool deliver_refusable(pid to, envelope* e) {
    if (to.scheduler() == index_) [[likely]]
      return deliver_local(to.bits(), e, true);
    if (to.is_remote()) [[unlikely]] {
      deliver_other_node(to, e); // throws badarg for a type that cannot cross
      return true;
    }
    if (listed_gauges_->load(std::memory_order_relaxed) != 0) [[unlikely]]
      return gated_remote_send(*this, to, e);
    deliver_remote(to, e);
    return true;
  }
  /// To a process of another node: through its connection (lib/dist).
  void deliver_other_node(pid to, envelope* e);
  void deliver_remote(pid to, envelope* e);
  static bool reply_awaited(const pcb& p, const envelope* e) noexcept;
  /// Queues an envelope for another scheduler; flushed when the running
  /// process yields the thread (or a batch fills), keeping per-pair order.
  void post(unsigned target, envelope* e);
  void flush_outbound();

  /// Any thread: adds a chain (linked newest → oldest) to the inbox and wakes
  /// the scheduler if it sleeps.
  void push(envelope* newest, envelope* oldest) noexcept;
  /// Any thread: runs `fn(*this, arg)` on this scheduler's thread, soon.
  void run_soon(void (*fn)(scheduler&, void*), void* arg);
  /// Any thread: interrupts the scheduler's sleep.
  void interrupt() noexcept;

  /// A reference unique in the node: this scheduler's index and a counter.
  ref next_ref() noexcept { return ref::from_bits((++ref_counter_ << 8) | index_); }

  // --- I/O
  uring::ring& ring() noexcept { return *ring_; }
  /// The provided buffers that multishot receives fill (registered at start).
  uring::buffer_ring& buffers();

  // --- blocking work (otter::blocking)
  /// A process of this scheduler handed work to the blocking threads / got it back.
  void blocking_sent() noexcept { ++blocking_out_; }
  void blocking_returned() noexcept { --blocking_out_; }

  // --- time
  std::uint64_t now_ns() const noexcept;
  void arm(timer_node* t, std::chrono::nanoseconds after);
  void disarm(timer_node* t) noexcept { wheel_.erase(t); }
  timer_ref start_send_timer(std::chrono::nanoseconds after, pid to, envelope* message);
  bool cancel_send_timer(timer_ref ref) noexcept;

  static constexpr std::uint64_t tick_ns = 1'000'000; // the timer wheel's tick: 1 ms

private:
  friend struct send_timer;
  void loop();
  void drain_inbox();
  void run_ready();
  void resume(pcb& p);
  void exit_process(pcb& p, bool quietly);
  void report_crash(pid id, std::string name, const exit_reason& reason, const process_ext& ext) noexcept;
  void fire_timers() noexcept;
  void idle();
  /// Whether some other scheduler of this node is awake (not asleep in the kernel).
  bool another_awake() const noexcept;
  void flush(unsigned target) noexcept;
  void wake_if_sleeping() noexcept;
  void shutdown();

  node_state& node_;
  const std::atomic<std::uint32_t>* listed_gauges_; // node_.listed_gauges
  const unsigned index_;
  std::unique_ptr<uring::ring> ring_;
  std::unique_ptr<uring::buffer_ring> buffers_;
  int ring_fd_ = -1;
  int eventfd_ = -1;

  pcb* runq_head_ = nullptr;
  pcb** runq_tail_ = &runq_head_;
  slot_table<pcb> procs_;

  timer_wheel wheel_;
  slot_table<send_timer> send_timers_;
  std::uint64_t virtual_now_ = 0;

  inbox inbox_;
  alignas(64) std::atomic<bool> sleeping_{false};

  struct outbound {
    envelope* newest = nullptr;
    envelope* oldest = nullptr;
    std::uint32_t count = 0;
    bool listed = false;
  };
  std::vector<outbound> outbound_;
  std::vector<unsigned> outbound_dirty_;
  std::uint64_t ref_counter_ = 0;
  std::uint64_t blocking_out_ = 0; // blocking work out on the blocking threads
};

/// The scheduler of the calling thread; throws std::logic_error naming `what`
/// on threads that are not a node's.
scheduler& current_scheduler(const char* what);

} // namespace otter::detail
