#pragma once
// The node's budget for connection memory (node_options::connection_memory):
// what sockets hold — unread received bytes, send copies in flight, bytes the
// application charged — counted per scheduler and summed when read. Each
// scheduler also knows its own sockets, to close the greediest when the node
// is over budget, and trims the allocator once the count has fallen from high.

#include <cstddef>
#include <cstdint>

#include <otter/logger.hpp>

namespace otter::net::detail {

struct socket_state;

/// Adds `delta` to the calling scheduler's count (nothing off the node's threads).
void count_bytes(std::int64_t delta) noexcept;
/// The node's count, summed over its schedulers (0 off the node's threads).
std::size_t counted_total() noexcept;
/// The node's budget (0 off the node's threads: no budget).
std::size_t budget() noexcept;

/// The sockets of the calling scheduler, the ones a budget check may close.
void list_socket(socket_state& s) noexcept;
void unlist_socket(socket_state& s) noexcept;

/// At a safe point (no socket is half-updated): if the count grew enough
/// since the last check and the node is over budget, closes this core's
/// greediest sockets with no_buffer_space until it should be under.
void check_budget() noexcept;
/// True when new connections should be refused (above 90% of the budget).
bool refusing_connections() noexcept;

/// Logs what was done to the connection on `fd` (its peer's address).
void report(connection_report::action what, int fd, std::size_t held, std::size_t total) noexcept;

} // namespace otter::net::detail
