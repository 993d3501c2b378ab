#pragma once
// epmd's protocol as pure encoders and parsers, plus the registry an epmd server keeps.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otter::dist {

/// Message tags (requests are prefixed by Len:2; replies are not).
namespace epmd_tag {
inline constexpr std::uint8_t alive2_req = 120;
inline constexpr std::uint8_t alive2_x_resp = 118;
inline constexpr std::uint8_t alive2_resp = 121;
inline constexpr std::uint8_t port_please2_req = 122;
inline constexpr std::uint8_t port2_resp = 119;
inline constexpr std::uint8_t names_req = 110;
} // namespace epmd_tag

/// What a node tells epmd about itself (ALIVE2_REQ) and epmd tells others (PORT2_RESP).
struct epmd_node {
  std::string name; ///< the alive part of the node name
  std::uint16_t port = 0;
  std::uint8_t node_type = 77; ///< 77 normal, 72 hidden
  std::uint8_t protocol = 0;   ///< 0: TCP/IPv4
  std::uint16_t highest = 6;
  std::uint16_t lowest = 5;
  std::string extra;
};

/// Limits a parser enforces: a longer name or extra is a bad message.
inline constexpr std::size_t epmd_max_name = 255;
inline constexpr std::size_t epmd_max_extra = 1024;

enum class parse_status { need_more, ok, bad };

// Client side --------------------------------------------------------------

std::string encode_alive2_req(const epmd_node& node);
std::string encode_port_please2_req(std::string_view name);
std::string encode_names_req();

struct alive2_reply {
  std::uint8_t result = 0; ///< 0: registered; else refused (a taken name)
  std::uint32_t creation = 0;
};
/// Parses ALIVE2_X_RESP or ALIVE2_RESP at the start of `in`; `used` = its size.
parse_status parse_alive2_reply(std::string_view in, alive2_reply& out, std::size_t& used);

struct port2_reply {
  std::uint8_t result = 0; ///< 0: found, `node` set; else not registered
  epmd_node node;
};
parse_status parse_port2_reply(std::string_view in, port2_reply& out, std::size_t& used);

struct epmd_name {
  std::string name;
  std::uint16_t port = 0;
  friend bool operator==(const epmd_name&, const epmd_name&) = default;
};
/// Parses a whole NAMES reply (the connection has closed): EPMDPort:4, then
/// lines "name N at port P\n". Lines of any other form are skipped.
std::optional<std::vector<epmd_name>> parse_names_reply(std::string_view all);

// Server side --------------------------------------------------------------

struct epmd_request {
  enum class kind { alive2, port_please2, names } type = kind::names;
  epmd_node node;   ///< alive2
  std::string name; ///< port_please2
};
/// Parses one request at the start of `in`; `used` = its size. On bad, `error` says why.
parse_status parse_epmd_request(std::string_view in, epmd_request& out, std::size_t& used, std::string* error = nullptr);

/// ALIVE2_X_RESP for a v6 node (highest >= 6), else ALIVE2_RESP with a 1..3 creation.
std::string encode_alive2_reply(const epmd_node& node, std::uint8_t result, std::uint32_t creation);
/// PORT2_RESP: the node, or (null) result 1, not registered.
std::string encode_port2_reply(const epmd_node* node);
std::string encode_names_reply(std::uint32_t epmd_port, const std::vector<epmd_name>& names);

/// The nodes an epmd server knows. A name is registered at most once; each
/// registration gets a nonzero creation, larger than the last one of the same
/// name (wrapping past 2^32 to 4 again). Bounded: at most `max_nodes` at a time.
class epmd_registry {
public:
  explicit epmd_registry(std::uint32_t first_creation = 4, std::size_t max_nodes = 4096);
  /// The creation, or nullopt if the name is taken or the registry is full.
  std::optional<std::uint32_t> add(epmd_node node);
  void remove(std::string_view name);
  const epmd_node* find(std::string_view name) const;
  std::vector<epmd_name> names() const;
  std::size_t size() const noexcept { return nodes_.size(); }

private:
  std::map<std::string, epmd_node, std::less<>> nodes_;
  std::map<std::string, std::uint32_t, std::less<>> last_creation_;
  std::uint32_t first_creation_;
  std::size_t max_nodes_;
};

} // namespace otter::dist
