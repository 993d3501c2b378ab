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

/// Socket options users expect; `set_options` applies the kernel options that
/// are set and always takes the limits (see docs/limits.md). The limits'
/// defaults keep a peer that never reads, or writes without end, from holding
/// a connection or its memory for ever.
struct socket_options {
  bool nodelay = false;     ///< TCP_NODELAY: send small writes at once
  bool keepalive = false;   ///< SO_KEEPALIVE
  int receive_buffer = 0;   ///< SO_RCVBUF, bytes (0: leave as is)
  int send_buffer = 0;      ///< SO_SNDBUF, bytes (0: leave as is)
  /// How long a send may wait for the peer to take its data when send() is
  /// given no timeout of its own. A send that takes longer fails with
  /// std::errc::timed_out and the socket is unusable: part of the data may
  /// have gone, so every later send and recv fails with timed_out too (the
  /// connection ends when the socket closes). wait_forever: no limit.
  std::chrono::nanoseconds send_timeout = std::chrono::seconds(30);
  /// Received bytes the socket holds for its owner, unread, before it stops
  /// reading (the kernel's buffers and TCP's window then hold the peer back).
  /// Reading goes on once the owner has taken some. The socket may hold up to
  /// one receive buffer (node_options::receive_buffer_size) more than this.
  std::size_t receive_limit = 64 * 1024;
  /// Bytes of a send that the socket copies and keeps in flight at a time. A
  /// larger send is copied piece by piece as the kernel takes it (its buffer
  /// must then stay valid until the co_await returns, as it does for
  /// `co_await s.send(x)`), so a peer that does not read holds at most this
  /// much of the node's memory per socket.
  std::size_t send_limit = std::size_t{1} << 20;
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

  /// Sends all of `data`. Up to socket_options::send_limit bytes are copied at
  /// once (the caller's buffer is then free); the rest of a larger send is
  /// copied as the kernel takes the first part, so that buffer must live until
  /// the co_await returns. Without a `timeout`, the socket's send_timeout
  /// applies. A timed-out send fails with timed_out and leaves the socket
  /// unusable; on a socket closed by a limit (see docs/limits.md) it fails with
  /// that error (timed_out, no_buffer_space).
  send_awaiter send(std::string_view data, std::chrono::nanoseconds timeout = otter::wait_forever);
  /// Waits until data has arrived and copies up to `into.size()` bytes.
  /// 0 bytes: the peer closed the connection.
  recv_awaiter recv(std::span<char> into, std::chrono::nanoseconds timeout = otter::wait_forever);
  /// Waits until data has arrived and returns all of it (empty: closed).
  recv_string_awaiter recv(std::chrono::nanoseconds timeout = otter::wait_forever);

  /// Delivers arriving data as messages to the calling process (see active_mode).
  void set_active(active_mode mode);
  io_result<void> set_options(const socket_options& options);
  /// Closes the connection (shutdown, error timed_out for the owner) once no
  /// byte has moved in either direction for `timeout`: neither received nor
  /// taken by the kernel to send. wait_forever (the default of a plain socket)
  /// turns it off; otter::net::server sets server_options::idle_timeout.
  /// Runs on the caller's core; call it from the owning process.
  void set_idle_timeout(std::chrono::nanoseconds timeout);
  /// Counts `bytes` (negative: gives them back) that the application holds
  /// for this connection — a parser's buffer, say — against the node's
  /// connection memory budget (node_options::connection_memory), beside the
  /// socket's own buffers. What is still charged is given back when the socket
  /// closes. Call it from the owning process.
  void charge(std::ptrdiff_t bytes) noexcept;
  /// Bytes this connection holds now: unread received data, send copies in
  /// flight, and what was charged.
  std::size_t memory() const noexcept;
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

/// Bytes that the node's connections hold now (received and unread, send
/// copies in flight, and what the application charged), summed over its
/// cores; 0 off the node's threads. Any process, any core.
std::size_t connection_memory() noexcept;
/// The node's budget for them (node_options::connection_memory, resolved).
/// Above 90% of it new connections are closed as soon as they are accepted;
/// above 100% the connections that hold the most are closed (their owners see
/// no_buffer_space) until the total is under it again. Each such action logs
/// one connection_report.
std::size_t connection_memory_budget() noexcept;

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
