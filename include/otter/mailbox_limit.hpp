#pragma once
// Bounded mailboxes: overload protection for a process whose senders are
// faster than it is. A process's mailbox is unbounded unless it asks for a
// bound (at spawn, or later for itself); the bound says what happens to a
// message that finds the mailbox full.
//
//   otter::spawn_options o;
//   o.mailbox = {1000, otter::on_full::drop_oldest}; // keep the newest 1000
//   otter::spawn(o, member, socket);
//
// or, from inside the process: otter::set_mailbox_limit({1000, otter::on_full::fail});
//
// What counts: messages sent with otter::send / try_send / send_wait, and
// gen_server calls and casts. Never counted and never dropped: exit and DOWN
// messages (the signals supervision relies on), call replies, and a socket's
// active-mode messages (flow-controlled by active_mode already).

#include <otter/detail/config.hpp>

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <otter/detail/envelope.hpp>
#include <otter/detail/io_wait.hpp>
#include <otter/detail/runtime.hpp>
#include <otter/detail/timer_node.hpp>
#include <otter/pid.hpp>
#include <otter/task.hpp>
#include <otter/timer.hpp>

namespace otter {

/// What a full mailbox does with one more message.
enum class on_full : std::uint8_t {
  /// The new message is dropped (the sender does not know).
  drop_newest,
  /// The oldest counted message waiting in the mailbox is dropped to make room.
  drop_oldest,
  /// The sender is refused: `send` throws otter::mailbox_full, `try_send` and
  /// `send_wait` return false at once.
  fail,
  /// The sender waits its turn: `co_await send_wait(...)` suspends the sending
  /// process (cooperatively: its core runs others) until there is room. A plain
  /// `send`, which never waits, is refused as with `fail`.
  block,
};

/// A mailbox's bound. `messages == 0` means unbounded (the default).
struct mailbox_limit {
  std::uint32_t messages = 0;
  on_full policy = on_full::drop_newest;
};

/// Thrown by otter::send (and gen_server call/cast) when the receiver's
/// mailbox is full and its policy is `fail` or `block`. Inside a process,
/// letting it escape crashes the sender — the overload becomes visible where it
/// is caused.
class mailbox_full : public std::runtime_error {
public:
  explicit mailbox_full(pid to);
  pid to() const noexcept { return to_; }

private:
  pid to_;
};

/// Bounds the calling process's mailbox from now on (messages already waiting
/// count; none is dropped by the call itself). `{0}` makes it unbounded again.
void set_mailbox_limit(mailbox_limit limit);

/// How many messages the calling process's bound has dropped (drop_newest,
/// drop_oldest, and messages with no sender to refuse under fail/block:
/// otter::send_after timers and node::send from other threads).
std::uint64_t mailbox_dropped();

/// Counted messages waiting in the calling process's mailbox (those the bound
/// applies to; only tracked while the mailbox is bounded, 0 otherwise).
std::uint32_t mailbox_queued();

namespace detail {
/// Delivers unless `to`'s mailbox refuses a sender (fail / block, full). On
/// refusal the envelope is destroyed and false returned. Never waits.
bool try_send_envelope(pid to, envelope* e);

/// One attempt of send_wait: 1 delivered (the envelope is consumed); -1
/// refused for good (policy fail); 0 full under `block`, and the calling process
/// is now queued for room in `to`'s mailbox. The envelope stays the caller's
/// unless 1 is returned.
int send_or_wait(pid to, envelope* e);
/// Leaves the queue of senders waiting for room in `to`'s mailbox.
void stop_waiting_for_room(pid to) noexcept;

/// The awaiter behind send_wait: one wait for room in `to`'s mailbox.
class [[nodiscard("otter::send_wait does nothing until you co_await it")]] room_awaiter {
public:
  room_awaiter(pid to, std::chrono::nanoseconds timeout) noexcept : to_(to), timeout_(timeout) {}
  room_awaiter(const room_awaiter&) = delete;
  room_awaiter& operator=(const room_awaiter&) = delete;
  ~room_awaiter();
  bool await_ready() noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h);
  void await_resume() noexcept;

private:
  static void on_timeout(timer_node* t) noexcept;
  struct node : timer_node {
    room_awaiter* owner = nullptr;
  } timer_;
  pid to_;
  std::chrono::nanoseconds timeout_;
  pcb* process_ = nullptr;
};

std::chrono::nanoseconds now_for_send_wait() noexcept;

struct envelope_owner {
  envelope* e;
  ~envelope_owner() {
    if (e != nullptr) destroy(e);
  }
};
} // namespace detail

/// Sends like otter::send, but returns false instead of throwing when `to`'s
/// mailbox refuses senders (policy fail or block, and full). Call it on one of
/// the node's threads.
template <class T>
bool try_send(pid to, T&& message) {
  return detail::try_send_envelope(to, detail::make_message<std::decay_t<T>>(std::forward<T>(message)));
}

/// Sends, waiting while `to`'s mailbox is full under policy `block`: the
/// sending process suspends (its core runs other processes) and resumes on its
/// own core when the receiver has taken messages, in the order the senders
/// began to wait. Resolves to true once sent (a message to a process that has
/// exited counts as sent and is dropped, as with otter::send), false if
/// `timeout` passed first or the policy is `fail`. If the sender is killed while
/// waiting, the message is dropped. Only a process may call it.
template <class T>
task<bool> send_wait(pid to, T message, std::chrono::nanoseconds timeout = wait_forever) {
  detail::envelope_owner owned{detail::make_message<std::decay_t<T>>(std::move(message))};
  const bool forever = timeout == wait_forever;
  const auto deadline = forever ? std::chrono::nanoseconds{} : detail::now_for_send_wait() + timeout;
  for (;;) {
    const int r = detail::send_or_wait(to, owned.e);
    if (r > 0) {
      owned.e = nullptr; // delivered: the mailbox owns it
      co_return true;
    }
    if (r < 0) co_return false; // refused for good (policy fail)
    // Full under `block`: this process is queued as a waiter for room.
    std::chrono::nanoseconds left = wait_forever;
    if (!forever) {
      left = deadline - detail::now_for_send_wait();
      if (left.count() <= 0) {
        detail::stop_waiting_for_room(to);
        co_return false;
      }
    }
    co_await detail::room_awaiter(to, left);
  }
}

} // namespace otter
