#pragma once
// Node names: `alive@host` under Erlang's -sname (short) and -name (long) rules.

#include <optional>
#include <string>
#include <string_view>

namespace otter::dist {

struct node_name {
  std::string alive; ///< the part before '@': the name registered with epmd
  std::string host;
  bool long_name = false;
  /// `alive@host`.
  std::string full() const { return alive + "@" + host; }
};

/// Parses `name` (`alive` or `alive@host`). The alive part is 1..255 of
/// [A-Za-z0-9_-]. Without a host, short names get this machine's host name up to
/// its first dot, long names the whole host name (gethostname). A short name's
/// host must not contain dots; the full name is at most 255 bytes. On failure
/// returns nullopt and, if `error` is given, says why.
std::optional<node_name> parse_node_name(std::string_view name, bool long_names, std::string* error = nullptr);

} // namespace otter::dist
