#pragma once
// The state behind tcp_socket and tcp_listener. Touched only on the socket's
// home scheduler (the core of the process that owns it).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <system_error>

#include <otter/net/tcp.hpp>
#include <otter/pid.hpp>

#include "../scheduler.hpp"
#include "../uring/ring.hpp"

namespace otter::net::detail {

using otter::detail::pcb;
using otter::detail::scheduler;

struct send_op;

/// The limits of socket_options that otter enforces itself (docs/limits.md).
struct socket_limits {
  std::chrono::nanoseconds send_timeout;
  std::size_t receive_limit;
  std::size_t send_limit;
  explicit socket_limits(const socket_options& o) noexcept
      : send_timeout(o.send_timeout), receive_limit(o.receive_limit > 0 ? o.receive_limit : 1),
        send_limit(o.send_limit > 0 ? o.send_limit : 1) {}
};

struct socket_state {
  explicit socket_state(int fd, const socket_options& options = {}) noexcept;
  socket_state(const socket_state&) = delete;
  socket_state& operator=(const socket_state&) = delete;

  int fd;
  std::uint64_t id;
  scheduler* home = nullptr; // whose ring reads for it, while armed

  std::string inbuf; // received, not yet taken
  bool eof = false;
  std::error_code error;
  bool eof_reported = false;
  bool error_reported = false;

  // The multishot receive: one request fills `inbuf` for as long as it runs.
  struct reader_completion : otter::detail::uring::completion {
    socket_state* state = nullptr;
  } reader;
  bool armed = false;
  bool cancelling = false;

  pcb* waiter = nullptr; // a process in recv, or in give_away
  otter::pid owner;      // receives active-mode messages
  int active = 0;        // 0: passive; > 0: messages left; < 0: always
  bool reading = false;  // recv was used: read ahead (up to receive_limit) for the next
  int refs = 1;          // the handle, plus the kernel while armed, plus sends in flight
  bool open = true;      // the handle has not closed it

  socket_limits limits;
  // Set when a limit closed the connection (timed_out, no_buffer_space):
  // every later recv and send fails with it.
  std::error_code broken;
  send_op* sending = nullptr; // the send in flight, cancelled if the connection breaks

  // Bytes counted against the node's budget: inbuf (as of `counted_inbuf`),
  // send copies in flight, and what the application charged.
  std::int64_t held = 0;
  std::size_t counted_inbuf = 0;
  std::int64_t charged = 0;
  // The home scheduler's list of its sockets (memory_budget.cpp).
  socket_state* prev_listed = nullptr;
  socket_state* next_listed = nullptr;
  bool listed = false;

  // The idle timeout: no byte moved for `idle_timeout` closes the connection.
  struct idle_timer : otter::detail::timer_node {
    socket_state* state = nullptr;
  } idle;
  std::chrono::nanoseconds idle_timeout = std::chrono::nanoseconds::max();
  std::uint64_t last_progress_ns = 0;

  /// Takes `home` as the current scheduler if nothing is armed elsewhere.
  bool adopt_current();
  bool wants_data() const noexcept;
  void arm();
  void stop_reading();
  void deliver_active();
  void wake_waiter() noexcept;
  void release() noexcept;
  /// The handle let go of it (on any thread).
  void close_handle() noexcept;

  /// Counts bytes against the budget (send copies, charges).
  void count(std::int64_t delta) noexcept;
  /// Counts the change of inbuf's size since the last call.
  void recount_inbuf() noexcept;
  /// A byte moved: the idle timeout starts again.
  void progress() noexcept;
  /// Arms the idle timer if there is one to arm, on the home scheduler.
  void arm_idle() noexcept;
  void disarm_idle() noexcept;
  /// A limit ends the connection: drops unread data, cancels the send in
  /// flight, reports `why` to the owner (recv, send, tcp_error) and, with
  /// `shut`, shuts the connection down so that the peer sees it end.
  void fail(std::error_code why, bool shut = true) noexcept;
  /// Leaves the home scheduler (give_away): its list and its timer.
  void leave_home() noexcept;

  static void on_idle(otter::detail::timer_node* t) noexcept;
  static void on_receive(otter::detail::uring::completion* c, int result, std::uint32_t flags) noexcept;
};

struct listener_state {
  explicit listener_state(int fd, socket_options accepted) noexcept;

  int fd;
  scheduler* home = nullptr;
  socket_options accepted;
  std::deque<int> ready; // accepted, not yet taken
  std::error_code error; // reported to the next accept
  struct acceptor_completion : otter::detail::uring::completion {
    listener_state* state = nullptr;
  } acceptor;
  bool armed = false;
  bool cancelling = false;
  pcb* waiter = nullptr;
  int refs = 1;
  bool open = true;

  void arm();
  void release() noexcept;
  void close_handle() noexcept;
  static void on_accept(otter::detail::uring::completion* c, int result, std::uint32_t flags) noexcept;
};

/// Applies the options that are set.
std::error_code apply_options(int fd, const socket_options& options) noexcept;

} // namespace otter::net::detail
