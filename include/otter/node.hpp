#pragma once
// otter::node — the runtime: one scheduler thread per core, each with its own
// io_uring, run queue, timer wheel and inbox.

#include <otter/detail/config.hpp>

#include <chrono>
#include <csignal>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <otter/detail/envelope.hpp>
#include <otter/dist/options.hpp>
#include <otter/exit_reason.hpp>
#include <otter/logger.hpp>
#include <otter/pid.hpp>
#include <otter/spawn.hpp>

namespace otter {

/// How a node is set up.
struct node_options {
  /// Number of schedulers (threads, each pinned to a core); 0 means one per
  /// CPU this process may run on. At most 254.
  unsigned schedulers = 0;
  /// Pin scheduler i to the i-th CPU of the process's affinity mask.
  bool pin_threads = true;
  /// Deterministic time for tests (requires schedulers == 1): the clock stands
  /// still while anything can run, and an idle scheduler jumps straight to its
  /// next timer instead of sleeping, so timeouts fire at once and in order.
  bool virtual_time = false;
  /// How long an idle scheduler polls for work before sleeping in the kernel.
  /// Waking a sleeping core costs tens of microseconds; polling costs a core.
  std::chrono::nanoseconds spin = std::chrono::microseconds(20);
  /// Submission queue size of each scheduler's io_uring.
  unsigned ring_entries = 256;
  /// Each scheduler's pool of receive buffers, shared by its sockets (the
  /// kernel fills one as data arrives; a socket holds none while idle). A
  /// power of two.
  unsigned receive_buffers = 512;
  unsigned receive_buffer_size = 16 * 1024;
  /// The budget for what the node's TCP connections hold in memory: received
  /// and unread bytes, send copies in flight, and what applications charge
  /// (tcp_socket::charge). 0: min(1 GiB, a quarter of the RAM). Above 90% new
  /// connections are refused; above 100% the greediest are closed (see
  /// docs/limits.md and otter::net::connection_memory).
  std::size_t connection_memory = 0;
  /// Distribution: with a node name, run() makes the node a member of a
  /// cluster of otter, Erlang and Elixir nodes (otter/dist/node.hpp).
  dist::options distribution;
  /// Stop on SIGINT and SIGTERM, in order: the first process of `run` gets an
  /// exit signal with reason `shutdown` (a supervisor then stops its tree top
  /// down, each child within its shutdown time), and `run` returns 0 if it
  /// exits with `shutdown`. A second signal kills it. The signals are blocked
  /// in the node's threads and the constructing thread while the node lives.
  bool stop_on_signals = false;

  /// The most threads `otter::blocking` runs work on at once (further work
  /// queues). They start as work needs them and leave after `blocking_keep_alive`
  /// without work.
  unsigned blocking_threads = 64;
  std::chrono::nanoseconds blocking_keep_alive = std::chrono::seconds(10);

  /// Crash and supervisor reports: on by default, written to stderr by a
  /// logger thread of the node through a bounded queue (see otter/logger.hpp).
  /// `log.reports = false` silences them; `log.sink` replaces stderr.
  log_options log;
};

namespace detail {
struct node_state;
}

/// A running otter runtime. Constructing it starts the schedulers (they idle
/// until there is work); destroying it kills any remaining processes and joins
/// the threads.
///
/// ```
/// otter::node node;                       // one scheduler per core
/// return node.run(main_process, argc);    // 0 when main_process exits normally
/// ```
///
/// Throws otter::runtime_unavailable (with the cause and the remedy in its
/// message) if a scheduler cannot set up its io_uring, enter it, or register
/// its receive buffers with it.
class node {
public:
  explicit node(node_options options = {});
  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  /// Starts `f(args...)` as the node's first process, on scheduler 0, and blocks
  /// the calling thread until that process exits. Then every other process still
  /// running is killed (destructors run) and `run` returns 0 if the first process
  /// exited `normal` (or `shutdown` after a stop signal), 1 otherwise. May be
  /// called again afterwards.
  ///
  /// Throws otter::runtime_unavailable if a scheduler's io_uring fails while
  /// the node runs (the kernel refuses io_uring_enter): every scheduler has
  /// then stopped, their processes are killed, and later calls throw it again.
  template <class F, class... A>
  int run(F&& f, A&&... args) {
    return run_prepared(detail::prepare_process(std::forward<F>(f), std::forward<A>(args)...));
  }

  /// The exit reason of the first process of the last `run`.
  const exit_reason& last_exit_reason() const noexcept;

  /// The number of schedulers.
  unsigned schedulers() const noexcept;

  /// The pid registered as `name`, or the null pid. Any thread.
  pid whereis(std::string_view name) const;

  /// Asks the first process to stop, as SIGTERM does with stop_on_signals. Any thread.
  void request_stop();

  /// Sends `message` to the process `to` from any thread: a thread of the
  /// program that is not the node's (a GUI loop, a callback of a C library, a
  /// test), or one of the node's own. As with otter::send it never blocks and a
  /// message to a dead pid is dropped. Messages sent from one thread to one
  /// process arrive in the order they were sent. Safe to call concurrently from
  /// any number of threads while the node lives (not during its destruction).
  /// A remote pid (a process on another node) is reached through the node's
  /// distribution, as otter::send does; its message's type needs a term codec
  /// (otherwise otter::badarg is thrown).
  template <class T>
  void send(pid to, T&& message) {
    send_envelope(to, detail::make_message<std::decay_t<T>>(std::forward<T>(message)));
  }
  /// Sends to the process registered as `name`, from any thread. Returns false
  /// (and drops the message) if no process has that name.
  template <class T>
  bool send(std::string_view name, T&& message) {
    const pid to = whereis(name);
    if (!to) return false;
    send(to, std::forward<T>(message));
    return true;
  }

private:
  void send_envelope(pid to, detail::envelope* e);
  int run_prepared(detail::prepared_process&& p);
  std::unique_ptr<detail::node_state> state_;
  sigset_t saved_mask_{};
};

/// The index of the scheduler running the caller, or -1 off the node's threads.
int this_scheduler() noexcept;

/// How many schedulers the caller's node has, or 0 off the node's threads.
int scheduler_count() noexcept;

} // namespace otter
