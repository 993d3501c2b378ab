#pragma once
// What distribution keeps in an exit_reason: the Erlang term a reason came as
// from another node, when no kind of exit_reason holds it exactly.

#include <memory>
#include <string>

#include <otter/exit_reason.hpp>

namespace otter::detail {

struct exit_reason_access {
  /// A reason of kind `k` (custom or shutdown) whose text (the custom value, or
  /// the shutdown detail) is `printed`, holding `value` (an otter::term).
  static exit_reason with_value(exit_reason::kind k, std::string printed, std::shared_ptr<const void> value);
  /// The value held, or null.
  static const void* value(const exit_reason& r) noexcept;
};

} // namespace otter::detail
