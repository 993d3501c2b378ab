#pragma once
// The state behind tcp_socket and tcp_listener. Touched only on the socket's
// home scheduler (the core of the process that owns it).

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

/// Beyond this much received and unread data, a socket stops reading (the
/// kernel's buffers and TCP's window then hold the peer back).
inline constexpr std::size_t high_water = 256 * 1024;

struct socket_state {
  explicit socket_state(int fd) noexcept;
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
  int refs = 1;          // the handle, plus the kernel while armed, plus sends in flight
  bool open = true;      // the handle has not closed it

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
