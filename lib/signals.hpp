#pragma once
// Signals between processes: link, unlink, exit, monitor, demonitor, down.
// They travel like messages (same queues, so per-pair order holds) and are
// acted on by the runtime when they arrive, turning into EXIT and DOWN
// messages where Erlang would.

#include <otter/exit_reason.hpp>
#include <otter/pid.hpp>
#include <otter/ref.hpp>

namespace otter::detail {

class scheduler;
struct pcb;
struct process_ext;

struct signal {
  enum class kind : unsigned char {
    link,          // `from` linked to `target`
    unlink,        // `from` unlinked from `target`
    link_exit,     // `from`, linked to `target`, exited with `reason`
    exit,          // exit(target, reason) called by `from`
    monitor,       // `from` monitors `target` under `tag`
    demonitor,     // the monitor `tag` on `target` is removed
    down,          // `from`, monitored by `target` under `tag`, exited with `reason`
  };
  kind what;
  pid from;
  pid target;
  ref tag;
  exit_reason reason;
};

/// Sends a signal from this scheduler's thread: acted on at once if the target
/// is local, queued behind earlier messages to its core otherwise. If the
/// signal ends the calling process itself, throws to unwind it.
void send_signal(scheduler& here, signal s);

/// Acts on a signal whose target is on scheduler `s` (its thread).
void handle_signal(scheduler& s, const signal& sig);

/// After process `id` exited with `reason`: signals its links and monitors.
void propagate_exit(scheduler& s, pid id, const exit_reason& reason, process_ext& ext);

/// Marks `p` to exit with `reason` when its scheduler next gets to it; if `p`
/// is the running process, throws to unwind it now.
void kill_process(scheduler& s, pcb& p, const exit_reason& reason);

} // namespace otter::detail
