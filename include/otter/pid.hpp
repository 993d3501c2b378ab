#pragma once
// otter::pid — the name of one process of a node.

#include <otter/detail/config.hpp>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

namespace otter {

/// Identifies one process of a node. A small value type: copy it, store it, send it.
///
/// A pid prints like Erlang's, `<S.N.G>`: S is the scheduler (core) that runs the
/// process, N its slot in that scheduler's process table and G the slot's
/// generation. A pid is never reused while the node lives: each reuse of a slot
/// bumps its generation, and a slot whose generation would wrap is retired.
/// Sending to the pid of a process that has exited is a silent no-op.
///
/// The default-constructed pid names no process and is false in a boolean context.
class pid {
public:
  constexpr pid() noexcept = default;

  /// Rebuilds a pid from `bits()`. No check is made that it names a process.
  static constexpr pid from_bits(std::uint64_t bits) noexcept { return pid{bits}; }
  /// Builds a pid from its parts (runtime use; see the class comment for their meaning).
  static constexpr pid make(unsigned scheduler, std::uint32_t slot,
                            std::uint32_t generation) noexcept {
    return pid{(std::uint64_t{generation} << 32) | (std::uint64_t{slot & 0xffffff} << 8) |
               (scheduler & 0xff)};
  }

  constexpr std::uint64_t bits() const noexcept { return bits_; }
  /// The scheduler (core index within the node) that runs this process.
  constexpr unsigned scheduler() const noexcept { return bits_ & 0xff; }
  constexpr std::uint32_t slot() const noexcept { return (bits_ >> 8) & 0xffffff; }
  constexpr std::uint32_t generation() const noexcept {
    return static_cast<std::uint32_t>(bits_ >> 32);
  }

  /// True for a pid of another node (otter/dist/node_table.hpp builds and takes
  /// them apart); scheduler(), slot() and generation() mean nothing for it.
  constexpr bool is_remote() const noexcept { return (bits_ & 0xff) == 0xfe; }

  constexpr explicit operator bool() const noexcept { return bits_ != 0; }
  friend constexpr bool operator==(pid, pid) noexcept = default;
  friend constexpr auto operator<=>(pid, pid) noexcept = default;

private:
  constexpr explicit pid(std::uint64_t bits) noexcept : bits_(bits) {}
  std::uint64_t bits_ = 0;
};

/// `<S.N.G>`, or `<none>` for the default-constructed pid; a remote pid prints as
/// `<N.ID.SERIAL>`, N being its node's index in the node table.
std::string to_string(pid p);
std::ostream& operator<<(std::ostream& os, pid p);

} // namespace otter

template <>
struct std::hash<otter::pid> {
  std::size_t operator()(otter::pid p) const noexcept {
    // Mix the bits: slots and generations are small, dense numbers.
    std::uint64_t x = p.bits() * 0x9e3779b97f4a7c15ull;
    return static_cast<std::size_t>(x ^ (x >> 32));
  }
};
