// Node-name rules: the alive part's alphabet, the host part for short and long names.
#include "names.hpp"

#include <unistd.h>

namespace otter::dist {

namespace {

constexpr std::size_t max_name = 255;

bool alive_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Hosts are DNS names or IP literals: no control bytes, spaces or a second '@'.
bool host_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && c != '@';
}

std::optional<node_name> fail(std::string* error, std::string why) {
  if (error != nullptr) *error = std::move(why);
  return std::nullopt;
}

} // namespace

std::optional<node_name> parse_node_name(std::string_view name, bool long_names, std::string* error) {
  const std::string shown(name.substr(0, 300));
  const auto at = name.find('@');
  const std::string_view alive = name.substr(0, at);
  if (alive.empty()) return fail(error, "node name '" + shown + "' has an empty name part");
  if (alive.size() > max_name) return fail(error, "node name '" + shown + "' is longer than 255 bytes");
  for (char c : alive)
    if (!alive_char(c))
      return fail(error, "node name '" + shown + "': the part before '@' may hold only letters, digits, '_' and '-'");
  node_name out;
  out.alive = std::string(alive);
  out.long_name = long_names;
  if (at == std::string_view::npos) {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0')
      return fail(error, "node name '" + shown + "' has no host and gethostname failed");
    std::string host(buf);
    if (!long_names) host = host.substr(0, host.find('.'));
    out.host = std::move(host);
  } else {
    const std::string_view host = name.substr(at + 1);
    if (host.empty()) return fail(error, "node name '" + shown + "' has an empty host part");
    for (char c : host)
      if (!host_char(c)) return fail(error, "node name '" + shown + "' has a bad character in its host part");
    out.host = std::string(host);
  }
  if (!long_names && out.host.find('.') != std::string::npos)
    return fail(error, "node name '" + out.alive + "@" + out.host.substr(0, 255) +
                           "': a short name's host may not contain dots (use long names)");
  if (out.alive.size() + 1 + out.host.size() > max_name)
    return fail(error, "node name '" + shown + "' is longer than 255 bytes");
  return out;
}

} // namespace otter::dist
