// Bounded mailboxes (otter/mailbox_limit.hpp); the shape of the state is
// explained in mailbox_gauge.hpp.

#include <otter/mailbox_limit.hpp>

#include <string>

#include "mailbox_gauge.hpp"
#include "node_state.hpp"
#include "process_ext.hpp"
#include "scheduler.hpp"

namespace otter {

mailbox_full::mailbox_full(pid to)
    : std::runtime_error("otter: the mailbox of " + to_string(to) + " is full (its bound refuses senders)"),
      to_(to) {}

namespace detail {
namespace {

// ---------------------------------------------------------------- waking senders

// Tells a sender waiting in send_wait that `receiver` has room. If the sender
// no longer waits for this ticket (it timed out, or was killed), the room
// passes to the next waiter, so no wake-up is lost.
struct room_envelope final : envelope {
  pid waiter;
  std::uint64_t token = 0;
  pid receiver;
};

void wake_next(scheduler& here, mailbox_gauge& g, pid receiver) noexcept;

void free_room(envelope* e) noexcept { delete static_cast<room_envelope*>(e); }

void pass_on(scheduler& s, pid receiver) noexcept {
  node_state& node = s.node();
  std::shared_lock lock(node.gauges_mutex);
  auto it = node.gauges.find(receiver.bits());
  if (it != node.gauges.end()) wake_next(s, *it->second, receiver);
}

void room_arrived(scheduler& s, pid waiter, std::uint64_t token, pid receiver) noexcept {
  pcb* p = s.find(waiter);
  if (p != nullptr && p->ext != nullptr && p->ext->room_token == token) {
    p->ext->room_token = 0;
    if (p->state == run_state::waiting) s.make_ready(*p);
    return;
  }
  pass_on(s, receiver);
}

void on_room_arrival(envelope* e, scheduler& s) {
  auto* r = static_cast<room_envelope*>(e);
  const pid waiter = r->waiter, receiver = r->receiver;
  const std::uint64_t token = r->token;
  free_room(e);
  room_arrived(s, waiter, token, receiver);
}

constexpr type_tag room_tag{&free_room, &on_room_arrival};

void wake(scheduler& here, const mailbox_gauge::waiter& w, pid receiver) noexcept {
  if (w.who.scheduler() == here.index()) {
    room_arrived(here, w.who, w.token, receiver);
    return;
  }
  room_envelope* e;
  try {
    e = new room_envelope;
  } catch (...) {
    return; // out of memory: the waiter's timeout, if any, ends its wait
  }
  e->tag = &room_tag;
  e->to = w.who.bits();
  e->waiter = w.who;
  e->token = w.token;
  e->receiver = receiver;
  here.post(w.who.scheduler(), e);
}

void wake_next(scheduler& here, mailbox_gauge& g, pid receiver) noexcept {
  mailbox_gauge::waiter w;
  {
    std::lock_guard lock(g.waiters_mutex);
    if (g.waiters.empty()) {
      g.has_waiters.store(false, std::memory_order_seq_cst);
      return;
    }
    w = g.waiters.front();
    g.waiters.pop_front();
    if (g.waiters.empty()) g.has_waiters.store(false, std::memory_order_seq_cst);
  }
  wake(here, w, receiver);
}

void wake_all(scheduler& here, mailbox_gauge& g, pid receiver) noexcept {
  std::deque<mailbox_gauge::waiter> all;
  {
    std::lock_guard lock(g.waiters_mutex);
    all.swap(g.waiters);
    g.has_waiters.store(false, std::memory_order_seq_cst);
  }
  for (const auto& w : all) wake(here, w, receiver);
}

// ---------------------------------------------------------------- the gate

enum class room { yes, refused, wait };

std::atomic<std::uint64_t> tickets{0};

// Whether a sender may add one message to `g`'s mailbox now; under `block`,
// queues the calling process `me` as a waiter when it may not (`can_wait`).
// Reserves the place (in_transit) when `reserve` and there is room.
room check_room(mailbox_gauge& g, pcb* me, pid receiver, bool reserve) {
  for (;;) {
    std::uint32_t t = g.in_transit.load(std::memory_order_seq_cst);
    if (g.queued.load(std::memory_order_seq_cst) + t < g.limit) {
      if (!reserve) return room::yes;
      if (g.in_transit.compare_exchange_weak(t, t + 1, std::memory_order_seq_cst)) return room::yes;
      continue;
    }
    if (g.policy != on_full::block || me == nullptr) return room::refused;
    // Register, then look again: the receiver takes a message and then looks
    // for waiters, so one of the two sees the other (both sequentially consistent).
    std::lock_guard lock(g.waiters_mutex);
    g.has_waiters.store(true, std::memory_order_seq_cst);
    if (!g.full()) {
      if (g.waiters.empty()) g.has_waiters.store(false, std::memory_order_seq_cst);
      continue;
    }
    process_ext& ext = ext_of(*me);
    ext.room_token = tickets.fetch_add(1, std::memory_order_relaxed) + 1;
    ext.room_in = receiver;
    g.waiters.push_back({me->self, ext.room_token});
    return room::wait;
  }
}

// Sends `e`, whose place a gate reserved in in_transit, to `to`'s core.
void post_admitted(scheduler& here, pid to, envelope* e) {
  e->to = (to.bits() & ~std::uint64_t{0xff}) | admitted_marker;
  here.post(to.scheduler(), e);
}

void count_queued(pcb& p, mailbox_gauge& g) noexcept {
  std::uint32_t n = 0;
  for (envelope* e = p.mailbox_head; e != nullptr; e = e->next)
    if (counted(e)) ++n;
  g.queued.store(n, std::memory_order_seq_cst);
}

void unlist(node_state& node, mailbox_gauge& g, pid owner) noexcept {
  if (!g.listed) return;
  std::unique_lock lock(node.gauges_mutex);
  node.gauges.erase(owner.bits());
  g.listed = false;
  node.listed_gauges.fetch_sub(1, std::memory_order_relaxed);
}

// drop_oldest: takes the oldest counted envelope that no receive holds on to.
bool drop_oldest(pcb& p, mailbox_gauge& g) noexcept {
  envelope*** scan = p.ext->receive_scan;
  for (envelope** link = &p.mailbox_head; *link != nullptr; link = &(*link)->next) {
    envelope* e = *link;
    if (!counted(e)) continue;
    if (scan != nullptr && **scan == e) continue; // matched by the receive about to resume
    if (scan != nullptr && *scan == &e->next) *scan = link;
    destroy(p.take_message(link));
    ++g.dropped;
    return true;
  }
  return false;
}

} // namespace

// ---------------------------------------------------------------- the runtime's side

arrival bounded_arrival(pcb& p, envelope* e, std::uint64_t to_bits, bool refusable) noexcept {
  if (!counted(e)) return arrival::push;
  mailbox_gauge& g = *p.ext->bound;
  const bool admitted = (to_bits & 0xff) == admitted_marker;
  if (admitted) {
    // Reserved by its sender: it has its place. (The place passes from
    // in_transit to queued without a moment in which both miss it.)
    g.queued.fetch_add(1, std::memory_order_seq_cst);
    g.in_transit.fetch_sub(1, std::memory_order_seq_cst);
    return arrival::push;
  }
  const bool full = g.policy == on_full::fail || g.policy == on_full::block
                        ? g.full()
                        : g.queued.load(std::memory_order_relaxed) >= g.limit;
  if (full) {
    switch (g.policy) {
    case on_full::drop_oldest:
      if (drop_oldest(p, g)) break;
      [[fallthrough]]; // nothing can be dropped (the one left is being received)
    case on_full::drop_newest:
      destroy(e);
      ++g.dropped;
      return arrival::dropped;
    case on_full::fail:
    case on_full::block:
      if (refusable) return arrival::refused;
      destroy(e); // no sender to refuse (a timer, a thread outside the node)
      ++g.dropped;
      return arrival::dropped;
    }
  }
  g.queued.fetch_add(1, std::memory_order_seq_cst);
  return arrival::push;
}

void note_bounded_take(pcb& p, envelope* e) noexcept {
  if (!counted(e) || p.ext == nullptr || p.ext->bound == nullptr) return;
  mailbox_gauge& g = *p.ext->bound;
  g.queued.fetch_sub(1, std::memory_order_seq_cst);
  if (g.has_waiters.load(std::memory_order_seq_cst) && tl_scheduler != nullptr) wake_next(*tl_scheduler, g, p.self);
}

bool gated_remote_send(scheduler& here, pid to, envelope* e) {
  if (!counted(e)) {
    here.deliver_remote(to, e);
    return true;
  }
  node_state& node = here.node();
  {
    std::shared_lock lock(node.gauges_mutex);
    auto it = node.gauges.find(to.bits());
    if (it != node.gauges.end()) {
      if (check_room(*it->second, nullptr, to, true) != room::yes) return false;
      post_admitted(here, to, e);
      return true;
    }
  }
  here.deliver_remote(to, e);
  return true;
}

void release_mailbox_bound(scheduler& s, pcb& p, process_ext* ext) noexcept {
  if (ext == nullptr || ext->bound == nullptr) return;
  mailbox_gauge* g = ext->bound;
  unlist(s.node(), *g, p.self);
  wake_all(s, *g, p.self); // they find it gone: their messages are dropped, as to any exited process
  ext->bound = nullptr;
  p.flags &= static_cast<std::uint8_t>(~pcb_flag::bounded);
  delete g;
}

void install_mailbox_bound(scheduler& s, pcb& p, mailbox_limit limit) {
  node_state& node = s.node();
  process_ext& ext = ext_of(p);
  if (limit.messages == 0) {
    release_mailbox_bound(s, p, &ext);
    return;
  }
  if (ext.bound == nullptr) {
    ext.bound = new mailbox_gauge;
    count_queued(p, *ext.bound);
    p.flags |= pcb_flag::bounded;
  }
  mailbox_gauge& g = *ext.bound;
  const bool listed = limit.policy == on_full::fail || limit.policy == on_full::block;
  {
    std::unique_lock lock(node.gauges_mutex);
    g.limit = limit.messages;
    g.policy = limit.policy;
    if (listed && !g.listed) {
      node.gauges.emplace(p.self.bits(), &g);
      g.listed = true;
      node.listed_gauges.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (!listed) unlist(node, g, p.self);
  if (limit.policy != on_full::block) wake_all(s, g, p.self); // nobody waits any more
  else if (!g.full()) wake_all(s, g, p.self);
}

// ---------------------------------------------------------------- sending

bool try_send_envelope(pid to, envelope* e) {
  scheduler& s = current_scheduler("otter::try_send");
  if (s.deliver_refusable(to, e)) return true;
  destroy(e);
  return false;
}

int send_or_wait(pid to, envelope* e) {
  scheduler& s = current_scheduler("otter::send_wait");
  pcb& me = current_process("otter::send_wait");
  if (!counted(e)) {
    s.deliver(to, e);
    return 1;
  }
  if (to.scheduler() == s.index()) {
    pcb* p = s.find(to);
    if (p == nullptr || p->ext == nullptr || p->ext->bound == nullptr || !p->ext->bound->listed) {
      s.deliver(to, e);
      return 1;
    }
    switch (check_room(*p->ext->bound, &me, to, false)) {
    case room::yes:
      (void)s.deliver_local(to.bits(), e, false);
      return 1;
    case room::refused:
      return -1;
    case room::wait:
      return 0;
    }
  }
  node_state& node = s.node();
  {
    std::shared_lock lock(node.gauges_mutex);
    auto it = node.gauges.find(to.bits());
    if (it != node.gauges.end()) {
      switch (check_room(*it->second, &me, to, true)) {
      case room::yes:
        post_admitted(s, to, e);
        return 1;
      case room::refused:
        return -1;
      case room::wait:
        return 0;
      }
    }
  }
  s.deliver(to, e);
  return 1;
}

namespace {
void leave_room_queue(scheduler* s, pcb* me, pid to) noexcept {
  if (s == nullptr || me == nullptr || me->ext == nullptr || me->ext->room_token == 0) return;
  const std::uint64_t token = std::exchange(me->ext->room_token, 0);
  auto leave = [&](mailbox_gauge& g) {
    std::lock_guard lock(g.waiters_mutex);
    for (auto it = g.waiters.begin(); it != g.waiters.end(); ++it)
      if (it->token == token) {
        g.waiters.erase(it);
        break;
      }
    if (g.waiters.empty()) g.has_waiters.store(false, std::memory_order_seq_cst);
  };
  node_state& node = s->node();
  std::shared_lock lock(node.gauges_mutex);
  auto it = node.gauges.find(to.bits());
  if (it != node.gauges.end()) leave(*it->second);
}
} // namespace

void stop_waiting_for_room(pid to) noexcept { leave_room_queue(tl_scheduler, tl_current, to); }

void watch_receive_scan(pcb& p, envelope*** scan) noexcept {
  if (p.ext != nullptr) p.ext->receive_scan = scan;
}
void unwatch_receive_scan(pcb& p) noexcept {
  if (p.ext != nullptr) p.ext->receive_scan = nullptr;
}

std::chrono::nanoseconds now_for_send_wait() noexcept {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(tl_scheduler->now_ns()));
}

// ---------------------------------------------------------------- room_awaiter

room_awaiter::~room_awaiter() {
  disarm_timer(&timer_);
  leave_room_queue(tl_scheduler, process_, to_); // killed while waiting
}

void room_awaiter::await_suspend(std::coroutine_handle<> h) {
  process_ = &current_process("otter::send_wait");
  process_->resume_point = h;
  if (timeout_ != wait_forever) {
    timer_.owner = this;
    timer_.fire = &on_timeout;
    arm_timer(&timer_, timeout_);
  }
  suspend_waiting(*process_, nullptr);
}

void room_awaiter::on_timeout(timer_node* t) noexcept {
  room_awaiter* self = static_cast<node*>(t)->owner;
  pcb* p = self->process_;
  leave_room_queue(tl_scheduler, p, self->to_); // still queued: leave the queue
  detail::wake(*p);
}

void room_awaiter::await_resume() noexcept {
  disarm_timer(&timer_);
  leave_room_queue(tl_scheduler, process_, to_);
  process_ = nullptr;
}

} // namespace detail

// ---------------------------------------------------------------- the process's own bound

void set_mailbox_limit(mailbox_limit limit) {
  detail::pcb& me = detail::current_process("otter::set_mailbox_limit");
  detail::install_mailbox_bound(*detail::tl_scheduler, me, limit);
}

std::uint64_t mailbox_dropped() {
  detail::pcb& me = detail::current_process("otter::mailbox_dropped");
  return me.ext != nullptr && me.ext->bound != nullptr ? me.ext->bound->dropped : 0;
}

std::uint32_t mailbox_queued() {
  detail::pcb& me = detail::current_process("otter::mailbox_queued");
  return me.ext != nullptr && me.ext->bound != nullptr ? me.ext->bound->queued.load(std::memory_order_relaxed) : 0;
}

} // namespace otter
