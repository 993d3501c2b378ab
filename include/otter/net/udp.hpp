#pragma once
// UDP for processes.

#include <otter/detail/config.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include <otter/detail/io_wait.hpp>
#include <otter/io_result.hpp>
#include <otter/net/address.hpp>

namespace otter::net {

/// One datagram and where it came from.
struct datagram {
  address from;
  std::string bytes;
};

/// Awaitable of udp_socket::send_to.
class [[nodiscard("udp_socket::send_to does nothing until you co_await it")]] send_to_awaiter
    : public otter::detail::io_wait {
public:
  using io_wait::io_wait;
  io_result<std::size_t> await_resume();
};

/// Awaitable of udp_socket::recv_from.
class [[nodiscard("udp_socket::recv_from does nothing until you co_await it")]] recv_from_awaiter
    : public otter::detail::io_wait {
public:
  using io_wait::io_wait;
  io_result<datagram> await_resume();
};

/// A UDP socket. Move-only; closed by its destructor. Operations run on the
/// calling process's core; a killed process's pending operation is cancelled
/// safely, as for TCP.
class udp_socket {
public:
  udp_socket() noexcept = default;
  udp_socket(udp_socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  udp_socket& operator=(udp_socket&& other) noexcept;
  ~udp_socket();

  /// A socket bound to `at` (port 0: any free port).
  static io_result<udp_socket> bind(const address& at);

  /// Sends one datagram (the data is copied).
  send_to_awaiter send_to(const address& to, std::string_view data,
                          std::chrono::nanoseconds timeout = otter::wait_forever);
  /// Waits for one datagram (up to 64 KiB).
  recv_from_awaiter recv_from(std::chrono::nanoseconds timeout = otter::wait_forever);

  address local_address() const;
  int native_handle() const noexcept { return fd_; }
  void close() noexcept;

private:
  explicit udp_socket(int fd) noexcept : fd_(fd) {}
  int fd_ = -1;
};

} // namespace otter::net
