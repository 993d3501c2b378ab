#include "memory_budget.hpp"

#include <algorithm>
#include <chrono>
#include <string>

#include <malloc.h>
#include <sys/socket.h>

#include <otter/detail/runtime.hpp>
#include <otter/net/address.hpp>
#include <otter/net/tcp.hpp>

#include "../logger.hpp"
#include "../node_state.hpp"
#include "socket_state.hpp"

namespace otter {

std::string connection_report::to_string() const {
  std::string line = "otter: connection from " + (peer.empty() ? std::string("?") : peer);
  if (what == action::refused) {
    line += " refused: connections hold " + std::to_string(total) + " bytes, over 90% of the budget of " +
            std::to_string(budget) + " bytes";
  } else {
    line += " closed (no_buffer_space): it held " + std::to_string(held) + " bytes; connections hold " +
            std::to_string(total) + " bytes, over the budget of " + std::to_string(budget) + " bytes";
  }
  return line;
}

namespace net {
namespace detail {

using otter::detail::scheduler;
using otter::detail::tl_scheduler;

namespace {

// What a scheduler keeps for the budget beside its counter in node_state.
struct core_state {
  socket_state* head = nullptr; // its sockets
  std::int64_t grown = 0;       // bytes counted up since the last check
  std::size_t peak = 0;         // the highest total a check saw since the last trim
  bool checking = false;
  otter::detail::timer_node trim;
};
thread_local core_state tl_core;

// The allocator is trimmed only after the count was this high at least: below
// it the memory is not worth a trim's cost.
constexpr std::size_t trim_floor = std::size_t{4} << 20;
constexpr auto trim_delay = std::chrono::seconds(1);

// How much a core counts up between checks of the total: small against the
// budget (a core overshoots it by at most this), large against one receive.
std::int64_t check_step(std::size_t budget) noexcept {
  return static_cast<std::int64_t>(std::clamp<std::size_t>(budget / 64, 4096, 256 * 1024));
}

std::uint64_t steady_ns() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// After the count fell: once it is low against its peak, give the freed
// memory back to the system (glibc keeps freed heap pages otherwise). At most
// once a second in the node; malloc_trim covers every thread's arena.
void on_trim(otter::detail::timer_node*) noexcept {
  scheduler* s = tl_scheduler;
  if (s == nullptr) return;
  core_state& c = tl_core;
  const std::size_t total = counted_total();
  if (total > c.peak / 2 && total >= trim_floor) {
    try {
      s->arm(&c.trim, trim_delay); // still high: look again later
    } catch (...) {
    }
    return;
  }
  c.peak = total;
  auto& last = s->node().last_trim_ns;
  const std::uint64_t now = steady_ns();
  std::uint64_t before = last.load(std::memory_order_relaxed);
  if (now - before >= static_cast<std::uint64_t>(std::chrono::nanoseconds(trim_delay).count()) &&
      last.compare_exchange_strong(before, now, std::memory_order_relaxed))
    (void)::malloc_trim(0);
}

std::string peer_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len).to_string();
}

} // namespace

void count_bytes(std::int64_t delta) noexcept {
  scheduler* s = tl_scheduler;
  if (s == nullptr || delta == 0) return;
  // Written by this core only: the line is not shared but with readers of the total.
  s->node().connection_bytes[s->index()].bytes.fetch_add(delta, std::memory_order_relaxed);
  core_state& c = tl_core;
  if (delta > 0) {
    c.grown += delta;
  } else if (c.peak >= trim_floor && !c.trim.armed()) {
    c.trim.fire = &on_trim;
    try {
      s->arm(&c.trim, trim_delay);
    } catch (...) {
    }
  }
}

std::size_t counted_total() noexcept {
  scheduler* s = tl_scheduler;
  if (s == nullptr) return 0;
  auto& node = s->node();
  std::int64_t sum = 0;
  // A socket may give bytes back on another core than it counted them on: a
  // core's counter can be negative, the sum cannot.
  for (unsigned i = 0; i < node.size(); ++i) sum += node.connection_bytes[i].bytes.load(std::memory_order_relaxed);
  return sum > 0 ? static_cast<std::size_t>(sum) : 0;
}

std::size_t budget() noexcept {
  scheduler* s = tl_scheduler;
  return s != nullptr ? s->node().connection_budget : 0;
}

void list_socket(socket_state& s) noexcept {
  if (s.listed) return;
  core_state& c = tl_core;
  s.prev_listed = nullptr;
  s.next_listed = c.head;
  if (c.head != nullptr) c.head->prev_listed = &s;
  c.head = &s;
  s.listed = true;
}

void unlist_socket(socket_state& s) noexcept {
  if (!s.listed) return;
  core_state& c = tl_core;
  if (s.prev_listed != nullptr)
    s.prev_listed->next_listed = s.next_listed;
  else
    c.head = s.next_listed;
  if (s.next_listed != nullptr) s.next_listed->prev_listed = s.prev_listed;
  s.prev_listed = s.next_listed = nullptr;
  s.listed = false;
}

void check_budget() noexcept {
  scheduler* s = tl_scheduler;
  if (s == nullptr) return;
  core_state& c = tl_core;
  const std::size_t limit = budget();
  if (c.checking || c.grown < check_step(limit)) return;
  c.grown = 0;
  std::size_t total = counted_total();
  c.peak = std::max(c.peak, total);
  if (total <= limit) return;
  c.checking = true;
  // The greediest first, until what the closed ones give back brings the
  // total under the budget (their send copies go when the kernel lets go).
  for (int round = 0; round < 4096 && total > limit; ++round) {
    socket_state* greediest = nullptr;
    for (socket_state* x = c.head; x != nullptr; x = x->next_listed)
      if (x->open && !x->broken && x->held > 0 && (greediest == nullptr || x->held > greediest->held)) greediest = x;
    if (greediest == nullptr) break; // the rest is held on other cores: they check too
    const auto held = static_cast<std::size_t>(greediest->held);
    report(connection_report::action::closed, greediest->fd, held, total);
    greediest->fail(std::make_error_code(std::errc::no_buffer_space));
    total = total > held ? total - held : 0;
  }
  c.checking = false;
}

bool refusing_connections() noexcept {
  const std::size_t limit = budget();
  return limit != 0 && counted_total() >= limit / 10 * 9;
}

void report(connection_report::action what, int fd, std::size_t held, std::size_t total) noexcept {
  otter::detail::logger* log = otter::detail::current_logger();
  if (log == nullptr) return;
  try {
    connection_report r;
    r.what = what;
    r.peer = peer_of(fd);
    r.held = held;
    r.total = total;
    r.budget = budget();
    log->post(std::move(r));
  } catch (...) {
  }
}

} // namespace detail

std::size_t connection_memory() noexcept { return detail::counted_total(); }
std::size_t connection_memory_budget() noexcept { return detail::budget(); }

} // namespace net
} // namespace otter
