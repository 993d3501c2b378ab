#pragma once
// The parts of a process's state that most processes never need, allocated on
// first use so that a process blocked in receive stays small.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <otter/detail/pcb.hpp>
#include <otter/exit_reason.hpp>
#include <otter/mailbox_mark.hpp>
#include <otter/ref.hpp>

namespace otter::detail {

struct mailbox_gauge;
namespace gs {
struct request_context;
}

struct monitor_entry {
  ref tag;
  pid other; // the monitored process, or the monitoring one
};

/// A supervisor's child, as its crash report names it.
struct child_identity {
  pid supervisor;
  std::string id;
};

struct process_ext {
  /// Set when the process is to exit with something other than `normal`.
  exit_reason reason;
  /// The reason is an exception that escaped this process's own code (a
  /// crash worth a report), not a signal from elsewhere.
  bool crashed = false;
  /// The callable and arguments a process was spawned from, when its coroutine
  /// refers to them (capturing lambdas, reference parameters).
  void* owned = nullptr;
  void (*owned_delete)(void*) noexcept = nullptr;

  std::vector<pid> links;
  std::vector<monitor_entry> monitors;     // this process monitors `other`
  std::vector<monitor_entry> monitored_by; // `other` monitors this process
  /// The tag of the call whose reply this process waits for: other replies are dropped.
  ref awaited_reply;
  /// The process's live mailbox marks, newest first (see mailbox_mark.cpp).
  mailbox_mark* marks = nullptr;

  /// A bounded mailbox's state (see mailbox_gauge.hpp); owned, freed at exit.
  mailbox_gauge* bound = nullptr;
  /// While a receive of a bounded process is active: its scan position, which
  /// drop_oldest keeps valid when it takes an envelope out.
  envelope*** receive_scan = nullptr;
  /// While waiting in send_wait for room in `room_in`'s mailbox: the ticket
  /// its wake-up must carry (0: not waiting).
  std::uint64_t room_token = 0;
  pid room_in;

  /// Set on a supervisor while it starts a child: a process it spawns linked
  /// meanwhile is that child, and gets a share of this in `child_of`.
  std::shared_ptr<const child_identity> starting_child;
  /// On a supervisor's child: which supervisor, and its id there.
  std::shared_ptr<const child_identity> child_of;
  /// On a gen_server, while a handler serves a request: what it leaves for
  /// the server loop (stop_self writes there). Null between requests.
  gs::request_context* serving = nullptr;

  ~process_ext() {
    if (owned != nullptr) owned_delete(owned);
  }

  bool linked_to(pid p) const noexcept { return std::find(links.begin(), links.end(), p) != links.end(); }
  bool unlink(pid p) noexcept {
    auto it = std::find(links.begin(), links.end(), p);
    if (it == links.end()) return false;
    *it = links.back();
    links.pop_back();
    return true;
  }
  static bool erase(std::vector<monitor_entry>& v, ref tag) noexcept {
    for (auto& m : v) {
      if (m.tag == tag) {
        m = v.back();
        v.pop_back();
        return true;
      }
    }
    return false;
  }
};

inline process_ext& ext_of(pcb& p) {
  if (p.ext == nullptr) p.ext = new process_ext;
  return *p.ext;
}

} // namespace otter::detail
