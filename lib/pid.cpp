#include <otter/pid.hpp>

#include <cstdio>
#include <ostream>

#include <otter/dist/node_table.hpp>

namespace otter {

std::string to_string(pid p) {
  if (!p) return "<none>";
  char buf[40];
  if (p.is_remote()) {
    const auto r = dist::remote_parts(p);
    const int n = std::snprintf(buf, sizeof buf, "<%u.%u.%u>", unsigned{r.node}, r.id, r.serial);
    return std::string(buf, static_cast<std::size_t>(n));
  }
  const int n = std::snprintf(buf, sizeof buf, "<%u.%u.%u>", p.scheduler(), p.slot(), p.generation());
  return std::string(buf, static_cast<std::size_t>(n));
}

std::ostream& operator<<(std::ostream& os, pid p) { return os << to_string(p); }

} // namespace otter
