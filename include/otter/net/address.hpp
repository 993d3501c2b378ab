#pragma once
// otter::net::address — an IPv4 or IPv6 address and port.

#include <otter/detail/config.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <netinet/in.h>
#include <sys/socket.h>

namespace otter::net {

/// An IP endpoint. Parse "127.0.0.1:8080", "[::1]:8080", or build one.
class address {
public:
  address() noexcept;
  /// `host` is a numeric IPv4 or IPv6 address (no DNS lookup).
  static std::optional<address> parse(std::string_view host, std::uint16_t port);
  /// "a.b.c.d:port" or "[v6]:port".
  static std::optional<address> parse(std::string_view host_and_port);
  static address loopback_v4(std::uint16_t port) noexcept;
  static address loopback_v6(std::uint16_t port) noexcept;
  static address any_v4(std::uint16_t port) noexcept;
  static address from_sockaddr(const sockaddr* sa, socklen_t len) noexcept;

  std::uint16_t port() const noexcept;
  /// The same host with another port.
  address with_port(std::uint16_t port) const noexcept;
  int family() const noexcept { return storage_.ss_family; }
  bool is_v6() const noexcept { return family() == AF_INET6; }
  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t size() const noexcept;
  std::string to_string() const;

  friend bool operator==(const address& a, const address& b) noexcept;

private:
  sockaddr_storage storage_{};
};

} // namespace otter::net
