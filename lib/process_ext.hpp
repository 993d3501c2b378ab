#pragma once
// The parts of a process's state that most processes never need, allocated on
// first use so that a process blocked in receive stays small.

#include <otter/detail/pcb.hpp>
#include <otter/exit_reason.hpp>

namespace otter::detail {

struct process_ext {
  /// Set when the process is to exit with something other than `normal`.
  exit_reason reason;
  /// The callable and arguments a process was spawned from, when its coroutine
  /// refers to them (capturing lambdas, reference parameters).
  void* owned = nullptr;
  void (*owned_delete)(void*) noexcept = nullptr;

  ~process_ext() {
    if (owned != nullptr) owned_delete(owned);
  }
};

inline process_ext& ext_of(pcb& p) {
  if (p.ext == nullptr) p.ext = new process_ext;
  return *p.ext;
}

} // namespace otter::detail
