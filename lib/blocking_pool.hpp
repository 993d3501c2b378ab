#pragma once
// The node's blocking threads: where otter::blocking runs work that would
// stall a scheduler. Threads start as work needs them, up to a limit, and leave
// after a while idle.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <otter/blocking.hpp>

namespace otter::detail {

struct node_state;

class blocking_pool {
public:
  blocking_pool(node_state& node, unsigned max_threads, std::chrono::nanoseconds keep_alive);
  ~blocking_pool();
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  /// Any thread: queues `job`; a blocking thread runs it and sends it back to
  /// its scheduler. Throws std::system_error if no thread can be started and
  /// none is running.
  void submit(blocking_job* job);
  /// Stops taking work: jobs not yet started go back to their schedulers
  /// unrun; waits for the running ones to finish. Idempotent.
  void shutdown();

private:
  void worker();
  void give_back(blocking_job* job) noexcept;
  void reap_finished();

  node_state& node_;
  const unsigned max_threads_;
  const std::chrono::nanoseconds keep_alive_;
  std::mutex mutex_;
  std::condition_variable work_;
  std::deque<blocking_job*> queue_;
  std::vector<std::thread> threads_;        // started and not yet joined
  std::vector<std::thread::id> finished_;   // threads that have left and wait to be joined
  unsigned idle_ = 0;
  bool stopping_ = false;
};

} // namespace otter::detail
