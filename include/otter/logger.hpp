#pragma once
// otter's reports — crash reports, supervisor reports — and how a node writes
// them: schedulers queue them, without ever waiting, for a logger thread of the
// node that formats them and hands them to the sink.

#include <otter/detail/config.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

#include <otter/exit_reason.hpp>
#include <otter/pid.hpp>

namespace otter {

/// A process died because an exception escaped its code (not an exit signal
/// from elsewhere, not `otter::exit`).
struct crash_report {
  pid process;
  std::string registered_name; ///< empty if the process had no name
  exit_reason reason;
  /// When the process is a supervisor's child: that supervisor (null
  /// otherwise), its registered name when the child crashed (empty if none),
  /// and the child's id in it.
  pid supervisor;
  std::string supervisor_name;
  std::string child_id;

  /// One line, without a newline:
  /// `otter: process <0.3.1> (worker) crashed: {error,std::logic_error,"bad"}; child db of supervisor <0.1.0> (app)`.
  std::string to_string() const;
};

/// What a supervisor reports, as OTP's supervisor reports do.
struct supervisor_report {
  /// Why (OTP's `errorContext`):
  enum class context {
    /// A child exited abnormally (or a permanent child exited at all); the
    /// supervisor restarts it if its restart type says so.
    child_terminated,
    /// A child could not be started (when the supervisor starts its children,
    /// or restarts one); `reason` is why.
    start_error,
    /// The supervisor gives up: more restarts than its intensity allows
    /// within its period. `reason` is `reached_max_restart_intensity`; the
    /// child is the one whose exit was one too many.
    shutdown,
  };
  pid supervisor;
  std::string supervisor_name; ///< empty if the supervisor is not registered
  context what = context::child_terminated;
  std::string child_id;
  pid child; ///< null when there was none (start_error)
  exit_reason reason;

  /// One line, without a newline:
  /// `otter: supervisor <0.1.0> (app) child_terminated: child db <0.2.0>, reason {error,std::runtime_error,"boom"}`.
  std::string to_string() const;
};

/// How many reports the logger dropped because its queue was full (the sink
/// was slower than the reports came). Comes once the sink has caught up.
struct dropped_reports {
  std::uint64_t count = 0;

  /// `otter: 512 log reports dropped (the log sink was too slow)`.
  std::string to_string() const;
};

/// A TCP connection the node closed or refused to keep its connection memory
/// within budget (node_options::connection_memory, see docs/limits.md).
struct connection_report {
  enum class action {
    refused, ///< accepted and closed at once: the budget was more than 90% used
    closed,  ///< closed with no_buffer_space: the budget was exceeded and it held the most
  };
  action what = action::closed;
  std::string peer;            ///< the peer's address, `127.0.0.1:40000`
  std::size_t held = 0;        ///< bytes the connection held
  std::size_t total = 0;       ///< bytes all connections held
  std::size_t budget = 0;

  /// One line, without a newline:
  /// `otter: connection from 127.0.0.1:40000 closed (no_buffer_space): it held 1048576 bytes; connections hold 1073807360 of a budget of 1073741824 bytes`.
  std::string to_string() const;
};

/// A connection to another node of the cluster came up, went down, or could
/// not be made or kept (dist::options::log_connections).
struct node_report {
  enum class event {
    up,      ///< connected: `detail` is the peer's address
    down,    ///< the connection went: `detail` is the reason
    failed,  ///< an attempt of ours to connect failed: `detail` says why
    refused, ///< a peer was refused (a wrong cookie, a malformed frame): `detail` says why
    epmd,    ///< this node's registration with epmd was lost, or made again: `detail` says which
  };
  event what = event::up;
  std::string node;   ///< the peer's node name, if known (this node's, for `epmd`)
  std::string detail;

  /// One line, without a newline: `otter: node b@localhost down: noconnection`.
  std::string to_string() const;
};

/// One record for the log sink.
using log_record = std::variant<crash_report, supervisor_report, dropped_reports, connection_report, node_report>;

/// The record's line, without a newline (newlines inside it are written `\n`).
std::string to_string(const log_record& record);
/// `child_terminated`, `start_error` or `shutdown`.
std::string_view to_string(supervisor_report::context what) noexcept;

/// The default sink: the record's line and a newline, written to fd 2 with
/// write(2) — in full, retrying after EINTR and short writes. If fd 2 is
/// non-blocking and full, it waits for it (poll) for at most a second in all,
/// then gives the line up; other errors (EPIPE, EBADF) give it up at once.
/// Never throws.
void write_to_stderr(const log_record& record) noexcept;

/// How a node logs its reports.
struct log_options {
  /// Log crash and supervisor reports at all. When false nothing is queued
  /// and the node starts no logger thread.
  bool reports = true;
  /// Called with each record, one at a time, in the order they were queued,
  /// on the node's logger thread — never on a scheduler, so it may block.
  /// Empty: the lines go to stderr (as `write_to_stderr`, many lines per write).
  /// An exception it throws is ignored. It is not called once the node's
  /// destructor has returned; if it is stuck then, it may still be running.
  std::function<void(const log_record&)> sink;
  /// Bounds of the queue between the schedulers and the sink: records queued
  /// and not yet written, and their approximate size in bytes. A record that
  /// does not fit is dropped and counted (see `dropped_reports`); a scheduler
  /// never waits for the sink.
  std::size_t max_queued_records = 1000;
  std::size_t max_queued_bytes = std::size_t{1} << 20;
  /// How long the node's destructor waits for the queued records to be
  /// written. After that the rest is dropped; a sink still stuck in a call is
  /// left to return on its own (its thread then ends without calling it again).
  std::chrono::milliseconds flush_timeout{1000};
};

} // namespace otter
