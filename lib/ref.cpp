#include <otter/ref.hpp>

#include <cstdio>
#include <ostream>

#include "scheduler.hpp"

namespace otter {

ref make_ref() {
  return detail::current_scheduler("otter::make_ref").next_ref();
}

std::string to_string(ref r) {
  if (!r) return "#Ref<none>";
  char buf[48];
  const int n = std::snprintf(buf, sizeof buf, "#Ref<%u.%llu>", static_cast<unsigned>(r.bits() & 0xff),
                              static_cast<unsigned long long>(r.bits() >> 8));
  return std::string(buf, static_cast<std::size_t>(n));
}

std::ostream& operator<<(std::ostream& os, ref r) { return os << to_string(r); }

} // namespace otter
