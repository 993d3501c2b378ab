#pragma once
// What a node's schedulers share.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <otter/exit_reason.hpp>
#include <otter/node.hpp>

#include "name_table.hpp"
#include "scheduler.hpp"

namespace otter::detail {

struct node_state {
  explicit node_state(node_options o) : options(std::move(o)) {}

  node_options options;
  std::vector<std::unique_ptr<scheduler>> schedulers;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::atomic<unsigned> next_spread{0};
  name_table names;

  // The first process of node::run.
  std::mutex root_mutex;
  std::condition_variable root_exited;
  bool root_done = false;
  exit_reason root_reason;

  unsigned size() const noexcept { return static_cast<unsigned>(schedulers.size()); }

  /// Called on the root process's scheduler when it exits.
  void on_root_exit(const exit_reason& reason) {
    std::lock_guard lock(root_mutex);
    root_reason = reason;
    root_done = true;
    root_exited.notify_all();
  }
};

} // namespace otter::detail
