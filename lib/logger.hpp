#pragma once
// The node's logger: a queue that schedulers hand reports to without ever
// waiting, and a thread that drains it into the sink.

#include <memory>
#include <thread>

#include <otter/logger.hpp>

namespace otter::detail {

class logger {
public:
  /// Starts the logger thread (with every signal blocked, so that a write to
  /// a pipe nobody reads fails with EPIPE instead of raising SIGPIPE).
  explicit logger(log_options options);
  /// Waits up to `flush_timeout` for what is queued to be written, then drops
  /// the rest and leaves a sink that is still stuck behind (its thread ends
  /// when the sink returns). Call once no scheduler can post any more.
  ~logger();
  logger(const logger&) = delete;
  logger& operator=(const logger&) = delete;

  /// Any thread; never blocks. Queues the record, or drops and counts it if
  /// the queue is full.
  void post(log_record&& record) noexcept;

  struct state;

private:
  std::shared_ptr<state> state_; // shared with the thread, which may outlive us
  std::thread thread_;
};

/// The logger of the calling scheduler's node, or null if it logs no reports
/// (or the caller is not on a node's thread). Check it before building a record.
logger* current_logger() noexcept;

/// Queues a supervisor's report on the calling scheduler's node, if it logs reports.
void post_report(supervisor_report&& report) noexcept;

} // namespace otter::detail
