#include <otter/pid.hpp>

#include <cstdio>
#include <ostream>

namespace otter {

std::string to_string(pid p) {
  if (!p) return "<none>";
  char buf[40];
  const int n = std::snprintf(buf, sizeof buf, "<%u.%u.%u>", p.scheduler(), p.slot(), p.generation());
  return std::string(buf, static_cast<std::size_t>(n));
}

std::ostream& operator<<(std::ostream& os, pid p) { return os << to_string(p); }

} // namespace otter
