#pragma once
// MD5 (RFC 1321) for the distribution handshake's challenge digests.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace otter::dist {

using md5_digest = std::array<std::uint8_t, 16>;

/// The MD5 digest of `data`. MD5 is broken as a hash; the handshake uses it only
/// because the protocol fixes it (digest = MD5(cookie ++ decimal challenge)).
md5_digest md5(std::span<const std::byte> data);
md5_digest md5(std::string_view data);

} // namespace otter::dist
