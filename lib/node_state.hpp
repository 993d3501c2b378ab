#pragma once
// What a node's schedulers share.

#include <atomic>
#include <cstdint>
#include <exception>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <thread>
#include <vector>

#include <otter/exit_reason.hpp>
#include <otter/node.hpp>

#include "blocking_pool.hpp"
#include "mailbox_gauge.hpp"
#include "logger.hpp"
#include "name_table.hpp"
#include "uring/ring.hpp"
#include "scheduler.hpp"

namespace otter::detail {

/// Bytes that the connections of one scheduler counted (lib/net/memory_budget.cpp);
/// written by that scheduler, summed by anyone. Its own cache line: no sharing
/// on the hot path.
struct alignas(64) connection_counter {
  std::atomic<std::int64_t> bytes{0};
};

} // namespace otter::detail

namespace otter::dist::detail {
struct dist_node;
/// Frees a node's distribution (lib/dist/runtime.cpp, where dist_node is complete).
struct dist_node_delete {
  void operator()(dist_node* d) const noexcept;
};
} // namespace otter::dist::detail

namespace otter::detail {

struct node_state {
  explicit node_state(node_options o)
      : options(std::move(o)), blocking_threads(*this, options.blocking_threads, options.blocking_keep_alive) {}

  /// The threads that run otter::blocking's work.
  blocking_pool& blocking() noexcept { return blocking_threads; }

  node_options options;
  std::vector<std::unique_ptr<scheduler>> schedulers;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::atomic<unsigned> next_spread{0};
  // Schedulers asleep in the kernel. An idle scheduler polls for work only
  // while another one is awake: nothing else sends to it quickly enough to be
  // worth a core, and on a busy machine the poll takes the core from whoever
  // would send (a peer node's process, the kernel's network stack).
  alignas(64) std::atomic<unsigned> sleepers{0};
  name_table names;

  // Bounded mailboxes whose senders may be refused or held back (policy fail
  // or block), by pid bits; senders on other cores look here. `listed_gauges`
  // lets every other send skip the lookup.
  std::shared_mutex gauges_mutex;
  std::unordered_map<std::uint64_t, mailbox_gauge*> gauges;
  std::atomic<std::uint32_t> listed_gauges{0};
  blocking_pool blocking_threads; // before `schedulers` in destruction: it pushes into their inboxes

  // The first process of node::run.
  std::mutex root_mutex;
  std::condition_variable root_exited;
  bool root_done = false;
  exit_reason root_reason;
  std::atomic<std::uint64_t> root_pid{0};
  std::atomic<int> stop_requests{0}; // stop signals received during this run

  // SIGINT/SIGTERM, read through scheduler 0's ring (stop_on_signals).
  int signal_fd = -1;
  struct signal_watch : uring::completion {
    node_state* node = nullptr;
    unsigned char info[128]; // a signalfd_siginfo
  } signal_read;

  // Crash and supervisor reports (null when options.log.reports is off). The
  // node's destructor flushes it after the schedulers have stopped.
  std::unique_ptr<logger> log;

  // The node's distribution while run() runs with a node name (lib/dist).
  std::unique_ptr<dist::detail::dist_node, dist::detail::dist_node_delete> dist;

  // Connection memory (otter::net::connection_memory): one counter per
  // scheduler, the budget resolved from options.connection_memory, and when
  // the allocator was last trimmed (steady clock, ns).
  std::unique_ptr<connection_counter[]> connection_bytes;
  std::size_t connection_budget = 0;
  std::atomic<std::uint64_t> last_trim_ns{0};

  unsigned size() const noexcept { return static_cast<unsigned>(schedulers.size()); }

  // Set when a scheduler's ring failed while the node ran (under root_mutex):
  // every scheduler has stopped or is stopping, and node::run throws it.
  std::exception_ptr failure;
  /// Any scheduler thread: records the first failure, stops every scheduler
  /// and wakes node::run.
  void fail(std::exception_ptr e) noexcept;
  bool failed() {
    std::lock_guard lock(root_mutex);
    return failure != nullptr;
  }

  /// Called on the root process's scheduler when it exits.
  void on_root_exit(const exit_reason& reason) {
    std::lock_guard lock(root_mutex);
    root_reason = reason;
    root_done = true;
    root_exited.notify_all();
  }
};

} // namespace otter::detail
