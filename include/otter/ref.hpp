#pragma once
// otter::ref — a unique reference, like Erlang's make_ref().

#include <otter/detail/config.hpp>

#include <compare>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

namespace otter {

/// A value unique within a node's lifetime: tags monitors and calls. A small
/// value type; the default one is null (false in a boolean context).
class ref {
public:
  constexpr ref() noexcept = default;
  static constexpr ref from_bits(std::uint64_t bits) noexcept {
    ref r;
    r.bits_ = bits;
    return r;
  }
  constexpr std::uint64_t bits() const noexcept { return bits_; }
  constexpr explicit operator bool() const noexcept { return bits_ != 0; }
  friend constexpr bool operator==(ref, ref) noexcept = default;
  friend constexpr auto operator<=>(ref, ref) noexcept = default;

private:
  std::uint64_t bits_ = 0;
};

/// A new reference. Call on a node's thread (normally from a process).
ref make_ref();

/// `#Ref<S.N>`: the scheduler that made it and its number there.
std::string to_string(ref r);
std::ostream& operator<<(std::ostream& os, ref r);

} // namespace otter

template <>
struct std::hash<otter::ref> {
  std::size_t operator()(otter::ref r) const noexcept {
    std::uint64_t x = r.bits() * 0x9e3779b97f4a7c15ull;
    return static_cast<std::size_t>(x ^ (x >> 32));
  }
};
