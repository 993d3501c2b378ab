#include "scheduler.hpp"

#include <cerrno>
#include <coroutine>
#include <stdexcept>
#include <string>

#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <otter/errors.hpp>
#include <otter/process.hpp>

#include "dist/runtime.hpp"
#include "node_state.hpp"
#include "process_ext.hpp"
#include "signals.hpp"

namespace otter::detail {

constinit thread_local pcb* tl_current = nullptr;
constinit thread_local scheduler* tl_scheduler = nullptr;

namespace {

// How many processes run before the loop looks at its inbox, ring and timers.
constexpr int run_batch = 256;
// A sender hands its queued envelopes for one core over once this many pile up.
constexpr std::uint32_t outbound_batch = 64;

std::coroutine_handle<> root_handle(pcb& p) noexcept {
  return process::handle_type::from_promise(static_cast<process::promise_type&>(p));
}

// A process created on one core and started on another travels as this.
struct spawn_envelope final : envelope {
  pcb* process = nullptr; // its pid is already in process->self
};

void discard_spawn(envelope* e) noexcept {
  // Never started (the node is shutting down): destroy the unstarted frame.
  auto* s = static_cast<spawn_envelope*>(e);
  process_ext* ext = std::exchange(s->process->ext, nullptr);
  root_handle(*s->process).destroy();
  delete ext;
  pool_deallocate(s, sizeof(spawn_envelope));
}

void install_spawn(envelope* e, scheduler& s);

constexpr type_tag spawn_tag{&discard_spawn, &install_spawn};

} // namespace

struct send_timer : timer_node {
  envelope* message = nullptr;
  pid to;
  std::uint32_t slot = 0;
  scheduler* owner = nullptr;

  static void on_fire(timer_node* t) noexcept {
    auto* st = static_cast<send_timer*>(t);
    scheduler& s = *st->owner;
    s.send_timers_.release(st->slot);
    envelope* m = st->message;
    pid to = st->to;
    delete st;
    try {
      s.deliver(to, m);
    } catch (...) {
      // deliver only throws for allocation failures on the way; the message is gone.
    }
  }
};

namespace {
void install_spawn(envelope* e, scheduler& s) {
  auto* se = static_cast<spawn_envelope*>(e);
  pcb& p = *se->process;
  pool_deallocate(se, sizeof(spawn_envelope));
  s.install_adopted(p);
}
} // namespace

scheduler::scheduler(node_state& node, unsigned index)
    : node_(node), listed_gauges_(&node.listed_gauges), index_(index) {
  eventfd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (eventfd_ < 0) throw runtime_unavailable(errno, "otter: eventfd failed");
  outbound_.resize(node.options.schedulers);
}

scheduler::~scheduler() {
  // Whatever other cores sent after this one stopped.
  envelope* e = inbox_.take_all();
  while (e != nullptr) {
    envelope* next = e->next;
    destroy(e);
    e = next;
  }
  if (eventfd_ >= 0) ::close(eventfd_);
}

void scheduler::thread_main(const std::function<void(std::exception_ptr)>& started) {
  tl_scheduler = this;
  pool_attach_thread();
  try {
    ring_ = std::make_unique<uring::ring>(node_.options.ring_entries);
    ring_fd_ = ring_->fd();
    ring_->watch_eventfd(eventfd_);
    // At start, not on a socket's first receive: a kernel or policy that
    // refuses io_uring_register fails the node's start, not every connection.
    buffers_ = std::make_unique<uring::buffer_ring>(*ring_, 0, node_.options.receive_buffers,
                                                    node_.options.receive_buffer_size);
  } catch (...) {
    buffers_.reset();
    ring_.reset();
    started(std::current_exception());
    pool_detach_thread();
    tl_scheduler = nullptr;
    return;
  }
  const std::uint64_t start = node_.options.virtual_time ? 0 : now_ns();
  virtual_now_ = start;
  wheel_.reset(start / tick_ns);
  started(nullptr);

  try {
    loop();
  } catch (...) {
    // The ring was refused (io_uring_enter failed) or the loop itself failed:
    // this core can do nothing more, so the whole node stops and run throws it.
    node_.fail(std::current_exception());
  }
  shutdown();

  buffers_.reset();
  ring_.reset();
  pool_detach_thread();
  tl_scheduler = nullptr;
}

// ---------------------------------------------------------------- the loop

void scheduler::loop() {
  while (!node_.stopping.load(std::memory_order_acquire)) {
    drain_inbox();
    run_ready();
    ring_->submit();
    ring_->reap();
    fire_timers();
    flush_outbound(); // what processes, timers and completions sent to other cores
    procs_.refill_remote();
    if (runq_head_ == nullptr && inbox_.empty()) idle();
  }
}

void scheduler::drain_inbox() {
  envelope* e = inbox_.take_all();
  while (e != nullptr) {
    envelope* next = e->next;
    if (e->tag->on_arrival != nullptr)
      e->tag->on_arrival(e, *this);
    else
      deliver_local(e->to, e);
    e = next;
  }
}

void scheduler::run_ready() {
  for (int n = 0; n < run_batch && runq_head_ != nullptr; ++n) {
    pcb* p = runq_head_;
    runq_head_ = p->next_ready;
    if (runq_head_ == nullptr) runq_tail_ = &runq_head_;
    resume(*p);
    if (!outbound_dirty_.empty()) flush_outbound();
  }
}

void scheduler::resume(pcb& p) {
  tl_current = &p;
  p.state = run_state::running;
  p.reductions = 0;
  if ((p.flags & pcb_flag::kill_pending) != 0) {
    exit_process(p, false);
  } else {
    p.resume_point.resume();
    if (p.state == run_state::exited) {
      exit_process(p, false);
    } else if (p.state == run_state::running) [[unlikely]] {
      // Suspended on an awaitable that does not tell the scheduler how it will
      // be resumed: it never would be. Fail loudly instead of leaking it.
      process_ext& ext = ext_of(p);
      ext.reason = exit_reason::error(
          "otter::foreign_await",
          "the process suspended on an awaitable that is not otter's and can never resume");
      ext.crashed = true;
      exit_process(p, false);
    }
  }
  tl_current = nullptr;
}

void scheduler::exit_process(pcb& p, bool quietly) {
  const pid id = p.self;
  const std::uint8_t flags = p.flags;
  process_ext* ext = std::exchange(p.ext, nullptr);
  const exit_reason reason = ext != nullptr ? ext->reason : exit_reason::normal();
  if ((flags & pcb_flag::bounded) != 0) release_mailbox_bound(*this, p, ext); // senders elsewhere stop finding it
  envelope* mail = p.mailbox_head;
  p.waiter = nullptr;

  // From here on the pid names nobody: whatever the destructors below send to
  // it is dropped, and the mailbox taken above is complete.
  procs_.vacate(id.slot());
  tl_current = &p;
  root_handle(p).destroy(); // runs the destructors of whatever the body had live
  tl_current = nullptr;

  while (mail != nullptr) {
    envelope* next = mail->next;
    destroy(mail);
    mail = next;
  }
  procs_.release(id.slot());

  std::string name;
  if ((flags & pcb_flag::named) != 0) {
    name = node_.names.name_of(id);
    node_.names.remove_pid(id);
  }
  if (!quietly && ext != nullptr && ext->crashed && node_.log) report_crash(id, std::move(name), reason, *ext);
  if (ext != nullptr && !quietly) propagate_exit(*this, id, reason, *ext);
  if ((flags & pcb_flag::root) != 0) node_.on_root_exit(reason);
  delete ext; // after the frame: it may own what the frame referred to
}

void scheduler::report_crash(pid id, std::string name, const exit_reason& reason, const process_ext& ext) noexcept {
  try {
    crash_report r{id, std::move(name), reason, {}, {}, {}};
    if (ext.child_of) { // started by a supervisor: say which child it was
      r.supervisor = ext.child_of->supervisor;
      r.supervisor_name = node_.names.name_of(r.supervisor);
      r.child_id = ext.child_of->id;
    }
    node_.log->post(std::move(r));
  } catch (...) {
    // No memory for the report: the crash goes unreported, the scheduler goes on.
  }
}

// ---------------------------------------------------------------- processes

pid scheduler::install_local(pcb& p) {
  auto h = procs_.acquire();
  procs_.install(h, &p);
  p.self = pid::make(index_, h.slot, h.generation);
  p.resume_point = root_handle(p);
  return p.self;
}

void scheduler::forget_local(pcb& p) noexcept {
  procs_.vacate(p.self.slot());
  procs_.release(p.self.slot());
}

pid scheduler::reserve(pcb& p) {
  auto h = procs_.reserve_remote();
  p.self = pid::make(index_, h.slot, h.generation);
  return p.self;
}

void scheduler::adopt(pcb& p) {
  void* mem = pool_allocate(sizeof(spawn_envelope));
  auto* e = new (mem) spawn_envelope{};
  e->tag = &spawn_tag;
  e->process = &p;
  // Straight into the inbox: anything sent to the new pid is sent after this
  // returns, so it cannot overtake the process's arrival. From here on `p`
  // belongs to that scheduler (it may already have run and exited).
  push(e, e);
}

bool scheduler::reply_awaited(const pcb& p, const envelope* e) noexcept {
  return p.ext != nullptr && p.ext->awaited_reply == e->tag->reply_tag(e);
}

void scheduler::install_adopted(pcb& p) {
  procs_.install({p.self.slot(), p.self.generation()}, &p);
  p.resume_point = root_handle(p);
  make_ready(p);
}

namespace {
struct call_envelope final : envelope {
  void (*fn)(scheduler&, void*) = nullptr;
  void* arg = nullptr;
};
void free_call(envelope* e) noexcept { delete static_cast<call_envelope*>(e); }
void run_call(envelope* e, scheduler& s) {
  auto* c = static_cast<call_envelope*>(e);
  c->fn(s, c->arg);
  free_call(e);
}
constexpr type_tag call_tag{&free_call, &run_call};
} // namespace

void scheduler::run_soon(void (*fn)(scheduler&, void*), void* arg) {
  auto* e = new call_envelope;
  e->tag = &call_tag;
  e->fn = fn;
  e->arg = arg;
  push(e, e);
}

std::size_t scheduler::kill_all() {
  std::vector<pcb*> all;
  all.reserve(procs_.live());
  procs_.for_each([&](pcb* p) { all.push_back(p); });
  runq_head_ = nullptr;
  runq_tail_ = &runq_head_;
  for (pcb* p : all) {
    ext_of(*p).reason = exit_reason::killed();
    exit_process(*p, true);
  }
  // Pending send_after timers die with the node's processes.
  std::vector<send_timer*> timers;
  send_timers_.for_each([&](send_timer* t) { timers.push_back(t); });
  for (send_timer* t : timers) {
    wheel_.erase(t);
    send_timers_.release(t->slot);
    destroy(t->message);
    delete t;
  }
  return all.size();
}

void scheduler::shutdown() {
  while (kill_all() > 0) {
  }
  flush_outbound();
  // Killed processes cancelled their I/O; let the kernel hand back what it
  // still holds (buffers, sockets) before the ring goes. A dead ring holds it
  // until it is closed.
  try {
    for (int i = 0; i < 100 && ring_->in_flight() > 0 && !ring_->failed(); ++i) {
      ring_->submit();
      ring_->wait(10'000'000);
    }
  } catch (...) {
    node_.fail(std::current_exception());
  }
  envelope* e = inbox_.take_all();
  while (e != nullptr) {
    envelope* next = e->next;
    destroy(e);
    e = next;
  }
}

// ---------------------------------------------------------------- messages

void scheduler::deliver_remote(pid to, envelope* e) {
  const unsigned target = to.scheduler();
  if (to && target < outbound_.size()) {
    e->to = to.bits();
    post(target, e);
  } else if (to.is_remote()) {
    try {
      deliver_other_node(to, e);
    } catch (...) {
      // Not a send (that path reports it): a type without a codec is dropped.
    }
  } else {
    destroy(e);
  }
}

void scheduler::deliver_other_node(pid to, envelope* e) { dist::detail::route_message(*this, to, e); }

void scheduler::post(unsigned target, envelope* e) {
  outbound& ob = outbound_[target];
  e->next = ob.newest;
  ob.newest = e;
  if (ob.oldest == nullptr) ob.oldest = e;
  if (!ob.listed) {
    ob.listed = true;
    outbound_dirty_.push_back(target);
  }
  if (++ob.count >= outbound_batch) flush(target);
}

void scheduler::flush(unsigned target) noexcept {
  outbound& ob = outbound_[target];
  if (ob.count == 0) return;
  envelope* newest = std::exchange(ob.newest, nullptr);
  envelope* oldest = std::exchange(ob.oldest, nullptr);
  ob.count = 0;
  node_.schedulers[target]->push(newest, oldest);
}

void scheduler::flush_outbound() {
  for (unsigned t : outbound_dirty_) {
    flush(t);
    outbound_[t].listed = false;
  }
  outbound_dirty_.clear();
}

void scheduler::push(envelope* newest, envelope* oldest) noexcept {
  inbox_.push(newest, oldest);
  wake_if_sleeping();
}

void scheduler::wake_if_sleeping() noexcept {
  // Pairs with idle(): it stores `sleeping_` and then checks the inbox; we
  // pushed to the inbox and now check `sleeping_`. Both seq_cst, so at least one
  // of the two sees the other and no wake-up is lost.
  if (!sleeping_.load(std::memory_order_seq_cst)) return;
  if (!sleeping_.exchange(false, std::memory_order_seq_cst)) return;
  scheduler* from = tl_scheduler;
  if (from != nullptr && &from->node_ == &node_ && from->ring_ && from->ring_->can_message_rings()) {
    try {
      from->ring_->message_ring(ring_fd_);
      return;
    } catch (...) {
    }
  }
  interrupt();
}

void scheduler::interrupt() noexcept {
  const std::uint64_t one = 1;
  // A full counter (EAGAIN) already means "wake up".
  [[maybe_unused]] ssize_t r = ::write(eventfd_, &one, sizeof one);
}

// ---------------------------------------------------------------- time

std::uint64_t scheduler::now_ns() const noexcept {
  if (node_.options.virtual_time) return virtual_now_;
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

namespace {

// CLOCK_MONOTONIC_COARSE costs a quarter of CLOCK_MONOTONIC here but lags it by
// up to its resolution (a kernel tick, typically 4 ms). Long timeouts (a
// call's 5 s) and "is anything due yet?" checks use it with that margin;
// short timeouts use the precise clock.
std::uint64_t coarse_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t coarse_margin_ns() noexcept {
  static const std::uint64_t margin = [] {
    timespec res{};
    ::clock_getres(CLOCK_MONOTONIC_COARSE, &res);
    return static_cast<std::uint64_t>(res.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(res.tv_nsec);
  }();
  return margin;
}

constexpr std::int64_t coarse_threshold_ns = 50'000'000; // timeouts from 50 ms use the coarse clock
constexpr std::int64_t forever_ns = std::int64_t{100} * 365 * 24 * 3600 * 1'000'000'000; // 100 years

} // namespace

void scheduler::arm(timer_node* t, std::chrono::nanoseconds after) {
  const std::int64_t delay = std::max<std::int64_t>(after.count(), 0);
  if (delay >= forever_ns) return; // never fires: leave it unarmed
  std::uint64_t now;
  if (node_.options.virtual_time)
    now = virtual_now_;
  else if (delay >= coarse_threshold_ns)
    now = coarse_ns() + coarse_margin_ns(); // at or after the true time
  else
    now = now_ns();
  const std::uint64_t due = now + static_cast<std::uint64_t>(delay);
  t->deadline = (due + tick_ns - 1) / tick_ns; // round up: never early
  wheel_.insert(t);
}

void scheduler::fire_timers() noexcept {
  if (wheel_.empty()) return;
  if (!node_.options.virtual_time) {
    // Nothing can be due before the next expiry: skip the precise clock.
    const std::uint64_t next = *wheel_.next_expiry() * tick_ns;
    if (coarse_ns() + coarse_margin_ns() < next) return;
  }
  wheel_.advance(now_ns() / tick_ns);
}

timer_ref scheduler::start_send_timer(std::chrono::nanoseconds after, pid to, envelope* message) {
  auto* t = new send_timer;
  t->message = message;
  t->to = to;
  t->owner = this;
  t->fire = &send_timer::on_fire;
  auto h = send_timers_.acquire();
  send_timers_.install(h, t);
  t->slot = h.slot;
  arm(t, after);
  return timer_ref::from_bits(pid::make(index_, h.slot, h.generation).bits());
}

bool scheduler::cancel_send_timer(timer_ref ref) noexcept {
  const pid id = pid::from_bits(ref.bits());
  send_timer* t = send_timers_.find(id.slot(), id.generation());
  if (t == nullptr) return false;
  wheel_.erase(t);
  send_timers_.release(t->slot);
  destroy(t->message);
  delete t;
  return true;
}

uring::buffer_ring& scheduler::buffers() { return *buffers_; }

void scheduler::idle() {
  if (node_.options.virtual_time) {
    // I/O in flight may still complete in real time: give it a moment first.
    if (ring_->in_flight() > 0) {
      ring_->wait(20'000'000);
      if (!inbox_.empty() || runq_head_ != nullptr) return;
    }
    // Nothing can run: let virtual time jump to the next timer. Not while
    // blocking work is out: it is still running, so time stands still and the
    // scheduler sleeps until the work comes back.
    if (auto next = wheel_.next_expiry(); next && blocking_out_ == 0) {
      virtual_now_ = std::max(virtual_now_, *next * tick_ns);
      return;
    }
  } else if (node_.options.spin.count() > 0 && another_awake()) {
    // Poll briefly: a message from another core then costs a cache-line
    // transfer, not a kernel wake-up. Only while another scheduler runs: when
    // all others sleep, what wakes this one comes from the kernel (I/O, a
    // timer, another process) and polling would only take the core it needs.
    const std::uint64_t until = now_ns() + static_cast<std::uint64_t>(node_.options.spin.count());
    for (unsigned i = 1;; ++i) {
      if (!inbox_.empty() || ring_->has_completions()) return;
      if ((i & 63) == 0) {
        if (node_.stopping.load(std::memory_order_relaxed) || now_ns() >= until || !another_awake()) break;
        ring_->poll();
      }
      __builtin_ia32_pause();
    }
  }

  sleeping_.store(true, std::memory_order_seq_cst);
  if (!inbox_.empty() || node_.stopping.load(std::memory_order_seq_cst)) {
    sleeping_.store(false, std::memory_order_relaxed);
    return;
  }
  std::int64_t timeout = -1;
  if (!node_.options.virtual_time) {
    if (auto next = wheel_.next_expiry()) {
      const std::uint64_t at = *next * tick_ns;
      const std::uint64_t now = now_ns();
      timeout = at > now ? static_cast<std::int64_t>(at - now) : 0;
    }
  }
  node_.sleepers.fetch_add(1, std::memory_order_relaxed);
  ring_->wait(timeout);
  node_.sleepers.fetch_sub(1, std::memory_order_relaxed);
  sleeping_.store(false, std::memory_order_relaxed);
}

bool scheduler::another_awake() const noexcept {
  return node_.sleepers.load(std::memory_order_relaxed) + 1 < node_.size();
}

} // namespace otter::detail
