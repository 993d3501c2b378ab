#pragma once
// TCP for processes: listeners, sockets, and Erlang's active mode.

#include <otter/detail/config.hpp>

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <otter/detail/envelope.hpp>
#include <otter/detail/io_wait.hpp>
#include <otter/detail/timer_node.hpp>
#include <otter/io_result.hpp>
#include <otter/net/address.hpp>
#include <otter/pid.hpp>

namespace otter::net {

namespace detail {
struct socket_state;
struct listener_state;
} // namespace detail

/// Socket options users expect; `set_options` applies the ones that are set.
struct socket_options {
  bool nodelay = false;     ///< TCP_NODELAY: send small writes at once
  bool keepalive = false;   ///< SO_KEEPALIVE
  int receive_buffer = 0;   ///< SO_RCVBUF, bytes (0: leave as is)
  int send_buffer = 0;      ///< SO_SNDBUF, bytes (0: leave as is)
};

/// How a listener is set up.
struct listen_options {
  int backlog = 1024;
  bool reuse_address = true; ///< SO_REUSEADDR
  /// SO_REUSEPORT: several listeners (one per core) share the port and the
  /// kernel spreads new connections between them.
  bool reuse_port = false;
  /// With reuse_port: take the port only if nobody listens on it yet — with
  /// SO_REUSEPORT or without, in this process or another — and fail with
  /// address_in_use otherwise; later reuse_port listeners of the same user
  /// then join this one. (The socket binds and listens without SO_REUSEPORT
  /// and turns it on afterwards; Linux lets a listener join a port only if
  /// every listener there has SO_REUSEPORT on.)
  bool claim_port = false;
  bool v6_only = false;      ///< IPV6_V6ONLY for an IPv6 address
  socket_options accepted{}; ///< applied to every accepted socket
};

/// Active mode (Erlang's `{active, ...}`): the socket delivers what arrives as
/// messages to its owner — `tcp_data`, then `tcp_closed` or `tcp_error` —
/// so that one process can wait for socket data and other messages at once.
class active_mode {
public:
  static active_mode off() noexcept { return active_mode(0); }
  /// One message, then passive again (flow control by the receiver).
  static active_mode once() noexcept { return active_mode(1); }
  static active_mode times(int n) noexcept { return active_mode(n > 0 ? n : 0); }
  /// Every arrival becomes a message (no flow control).
  static active_mode always() noexcept { return active_mode(-1); }
  int count() const noexcept { return n_; }

private:
  explicit active_mode(int n) noexcept : n_(n) {}
  int n_;
};

/// Data that arrived on an active socket. `socket` is the socket's id().
struct tcp_data {
  std::uint64_t socket;
  std::string bytes;
};
/// The peer closed an active socket (all its data came before this).
struct tcp_closed {
  std::uint64_t socket;
};
/// An active socket failed.
struct tcp_error {
  std::uint64_t socket;
  std::error_code error;
};

class tcp_socket;

/// Awaitable of tcp_socket::connect.
class [[nodiscard("otter::net::tcp_socket::connect does nothing until you co_await it")]] connect_awaiter
    : public otter::detail::io_wait {
public:
  using io_wait::io_wait;
  io_result<tcp_socket> await_resume();
};

/// Awaitable of tcp_socket::send.
class [[nodiscard("tcp_socket::send does nothing until you co_await it")]] send_awaiter : public otter::detail::io_wait {
public:
  using io_wait::io_wait;
  io_result<std::size_t> await_resume();
};

/// Awaitable of tcp_socket::recv: waits for data on the socket.
class [[nodiscard("tcp_socket::recv does nothing until you co_await it")]] recv_awaiter {
public:
  recv_awaiter(detail::socket_state* s, std::span<char> into, bool take_all, std::chrono::nanoseconds timeout) noexcept;
  recv_awaiter(const recv_awaiter&) = delete;
  recv_awaiter& operator=(const recv_awaiter&) = delete;
  ~recv_awaiter();
  bool await_ready();
  void await_suspend(std::coroutine_handle<> h);
  /// Bytes copied into the span (0: the peer closed the connection).
  io_result<std::size_t> await_resume();

private:
  friend class recv_string_awaiter;
  static void on_timeout(otter::detail::timer_node* t) noexcept;
  struct timer : otter::detail::timer_node {
    recv_awaiter* owner = nullptr;
  } timer_;
  detail::socket_state* state_;
  std::span<char> into_;
  std::string taken_;
  bool take_all_;
  bool timed_out_ = false;
  bool waiting_ = false;
  std::error_code early_;
  std::chrono::nanoseconds timeout_;
};

/// Awaitable of tcp_socket::recv(): everything that has arrived, as a string.
class [[nodiscard("tcp_socket::recv does nothing until you co_await it")]] recv_string_awaiter : public recv_awaiter {
public:
  using recv_awaiter::recv_awaiter;
  /// The bytes; empty when the peer closed the connection.
  io_result<std::string> await_resume();
};

/// Awaitable of give_away.
class [[nodiscard("otter::net::give_away does nothing until you co_await it")]] give_awaiter {
public:
  give_awaiter(tcp_socket&& s, pid to);
  give_awaiter(const give_awaiter&) = delete;
  give_awaiter& operator=(const give_awaiter&) = delete;
  ~give_awaiter();
  bool await_ready();
  void await_suspend(std::coroutine_handle<> h);
  void await_resume();

private:
  detail::socket_state* state_;
  pid to_;
};

/// A connected TCP socket, owned by one process. Move-only; destroying it
/// closes the connection. Its operations are awaitables that run on the
/// owning process's core (its io_uring). If the process is killed while an
/// operation is in flight, the operation is cancelled, its buffer lives until
/// the kernel is done with it, and the socket closes.
class tcp_socket {
public:
  tcp_socket() noexcept = default;
  explicit tcp_socket(detail::socket_state* s) noexcept : state_(s) {}
  tcp_socket(tcp_socket&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  tcp_socket& operator=(tcp_socket&& other) noexcept;
  ~tcp_socket();

  /// Connects to `to`. Fails with the kernel's error (connection_refused,
  /// timed_out, ...).
  static connect_awaiter connect(const address& to, std::chrono::nanoseconds timeout = otter::wait_forever,
                                 socket_options options = {});

  /// Sends all of `data` (copied: the caller's buffer is free at once).
  send_awaiter send(std::string_view data, std::chrono::nanoseconds timeout = otter::wait_forever);
  /// Waits until data has arrived and copies up to `into.size()` bytes.
  /// 0 bytes: the peer closed the connection.
  recv_awaiter recv(std::span<char> into, std::chrono::nanoseconds timeout = otter::wait_forever);
  /// Waits until data has arrived and returns all of it (empty: closed).
  recv_string_awaiter recv(std::chrono::nanoseconds timeout = otter::wait_forever);

  /// Delivers arriving data as messages to the calling process (see active_mode).
  void set_active(active_mode mode);
  io_result<void> set_options(const socket_options& options);
  /// shutdown(2): SHUT_WR (the default) tells the peer no more data comes.
  io_result<void> shutdown(int how = SHUT_WR);
  /// Closes the socket (also done by the destructor).
  void close() noexcept;

  bool is_open() const noexcept { return state_ != nullptr; }
  /// A number identifying this connection in active-mode messages.
  std::uint64_t id() const noexcept;
  int native_handle() const noexcept;
  address local_address() const;
  address peer_address() const;

  detail::socket_state* release() noexcept { return std::exchange(state_, nullptr); }

private:
  detail::socket_state* state_ = nullptr;
};

/// Hands the socket to process `to` (which receives it as a tcp_socket
/// message): stops reading on this core first, so that `to` may run on
/// another core. Data already received goes along.
inline give_awaiter give_away(tcp_socket&& socket, pid to) { return give_awaiter(std::move(socket), to); }

/// Awaitable of tcp_listener::accept.
class [[nodiscard("tcp_listener::accept does nothing until you co_await it")]] accept_awaiter {
public:
  accept_awaiter(detail::listener_state* s, std::chrono::nanoseconds timeout) noexcept;
  accept_awaiter(const accept_awaiter&) = delete;
  accept_awaiter& operator=(const accept_awaiter&) = delete;
  ~accept_awaiter();
  bool await_ready();
  void await_suspend(std::coroutine_handle<> h);
  io_result<tcp_socket> await_resume();

private:
  static void on_timeout(otter::detail::timer_node* t) noexcept;
  struct timer : otter::detail::timer_node {
    accept_awaiter* owner = nullptr;
  } timer_;
  detail::listener_state* state_;
  bool timed_out_ = false;
  bool waiting_ = false;
  std::chrono::nanoseconds timeout_;
};

/// A listening TCP socket. Accepts run as one multishot request on the
/// owning process's core; accepted connections wait in a short queue.
class tcp_listener {
public:
  tcp_listener() noexcept = default;
  tcp_listener(tcp_listener&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  tcp_listener& operator=(tcp_listener&& other) noexcept;
  ~tcp_listener();

  /// Binds and listens (port 0: any free port, see local_address()). Fails
  /// with the kernel's error: address_in_use for a port that is taken (see
  /// listen_options::reuse_port and claim_port for sharing one).
  static io_result<tcp_listener> listen(const address& at, listen_options options = {});

  /// The next connection. Errors such as emfile (too many open files) are
  /// reported to this call; the listener goes on.
  accept_awaiter accept(std::chrono::nanoseconds timeout = otter::wait_forever);

  address local_address() const;
  bool is_open() const noexcept { return state_ != nullptr; }
  void close() noexcept;

private:
  explicit tcp_listener(detail::listener_state* s) noexcept : state_(s) {}
  detail::listener_state* state_ = nullptr;
};

} // namespace otter::net

// Active-mode messages have flow control of their own (active_mode::once and
// times): a mailbox bound never counts or drops them.
template <>
inline constexpr bool otter::detail::exempt_from_mailbox_limit<otter::net::tcp_data> = true;
template <>
inline constexpr bool otter::detail::exempt_from_mailbox_limit<otter::net::tcp_closed> = true;
template <>
inline constexpr bool otter::detail::exempt_from_mailbox_limit<otter::net::tcp_error> = true;
