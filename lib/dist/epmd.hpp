#pragma once
// Coroutine clients of epmd: register this node, look up another node's port, list names.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include <otter/io_result.hpp>
#include <otter/net/address.hpp>
#include <otter/net/tcp.hpp>
#include <otter/task.hpp>

#include "epmd_wire.hpp"

namespace otter::dist {

/// How an epmd exchange failed (beside the kernel's errors, e.g. connection_refused).
enum class epmd_errc {
  not_registered = 1, ///< PORT_PLEASE2: epmd knows no such name
  name_taken,         ///< ALIVE2: the name is registered already
  bad_response,       ///< epmd answered something that is not its protocol
  closed,             ///< epmd closed the connection before answering
};
const std::error_category& epmd_category() noexcept;
std::error_code make_error_code(epmd_errc e) noexcept;

/// Each call's bound, connection included (Erlang uses no less).
inline constexpr std::chrono::nanoseconds epmd_timeout = std::chrono::seconds(5);

/// A node's registration: it lasts while `socket` is open (close it to unregister).
struct epmd_registration {
  net::tcp_socket socket;
  std::uint32_t creation = 0;
};

/// Registers `alive` (the name's part before '@') as listening on `port`, as a
/// normal or hidden node, with protocol versions 5..6. Fails with name_taken,
/// bad_response, closed, timed_out (after `timeout`) or the kernel's error. The
/// views must stay valid until the co_await returns. Call from a process; it
/// suspends only that process.
task<io_result<epmd_registration>> epmd_register(net::address epmd, std::string_view alive, std::uint16_t port,
                                                 bool hidden, std::chrono::nanoseconds timeout = epmd_timeout);

/// The port (and type, protocol versions, extra) that `alive` registered; fails
/// with not_registered if epmd does not know it.
task<io_result<epmd_node>> epmd_port_please(net::address epmd, std::string_view alive,
                                            std::chrono::nanoseconds timeout = epmd_timeout);

/// The names registered with epmd and their ports.
task<io_result<std::vector<epmd_name>>> epmd_names(net::address epmd, std::chrono::nanoseconds timeout = epmd_timeout);

/// epmd's address on `host`: a numeric IPv4/IPv6 address, "localhost" (127.0.0.1),
/// or a name resolved with getaddrinfo — which blocks the calling thread, so do
/// that before the node runs or in a blocking task. nullopt if it does not resolve.
std::optional<net::address> epmd_address(std::string_view host, std::uint16_t port);

/// ERL_EPMD_PORT if it is set to a port number, else 4369.
std::uint16_t epmd_port_from_env();

} // namespace otter::dist

template <>
struct std::is_error_code_enum<otter::dist::epmd_errc> : std::true_type {};
