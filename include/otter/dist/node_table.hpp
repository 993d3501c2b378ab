#pragma once
// otter::dist node table — the nodes a process has heard of, and remote pids.

#include <otter/detail/config.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <otter/dist/term.hpp>
#include <otter/pid.hpp>
#include <otter/ref.hpp>

namespace otter::dist {

/// One incarnation of a node: its name (`app@host`) and its creation.
struct node_entry {
  std::string name;
  std::uint32_t creation;
};

/// The index of (name, creation) in the process-wide node table, adding it if
/// new. Index 0 is `nonode@nohost`, creation 0. Returns 0xffff when the table
/// (65535 entries) is full. Thread-safe. Entries live as long as the process:
/// a node that reconnects with a new creation takes a new entry.
std::uint16_t intern_node(std::string_view name, std::uint32_t creation);

/// The entry at `index`. Precondition: `index` was returned by intern_node (or is 0).
/// Lock-free; the reference stays valid for the life of the process.
const node_entry& node_at(std::uint16_t index);

/// A pid of the node at index `node`, with Erlang's ID and Serial.
///
/// Layout of the 64 bits: byte 0 is 0xfe (no local scheduler has that number),
/// bits 8..23 the node index; bits 24..63 hold the ID (28 bits) and the Serial
/// (11 bits) when they fit, with bit 63 clear, or else, with bit 63 set, the index
/// of (ID, Serial) in a process-wide table that interns them (equal remote pids
/// have equal bits). Thread-safe. Returns the null pid if that table is full
/// (2^28 distinct large pairs).
pid make_remote_pid(std::uint16_t node, std::uint32_t id, std::uint32_t serial);

struct remote_pid_parts {
  std::uint16_t node;
  std::uint32_t id;
  std::uint32_t serial;
};

/// Precondition: p.is_remote().
remote_pid_parts remote_parts(pid p);

/// A remote pid's node index; for a local pid, `local_index`.
/// (Named so as not to clash with `std::string node_of(pid)` of otter/dist/node.hpp.)
std::uint16_t node_index_of(pid p, std::uint16_t local_index = 0);

/// A local pid's Erlang ID and Serial: ID = slot << 8 | scheduler, Serial = generation.
/// (Erlang 25 takes any 32-bit ID and Serial in NEW_PID_EXT and gives them back unchanged.)
struct local_pid_parts_t {
  std::uint32_t id;
  std::uint32_t serial;
};
local_pid_parts_t local_pid_parts(pid p);
/// The local pid with that Erlang ID and Serial.
pid local_pid_from(std::uint32_t id, std::uint32_t serial);

/// A reference back to the local otter::ref it was made from (term::from_ref):
/// its node is `local_index` and it has 3 words, the last 0. Otherwise nullopt.
std::optional<otter::ref> term_ref_to_local(const term_ref& r, std::uint16_t local_index);

/// The node index this process's node uses for its own pids and refs (0 while
/// it is not distributed). The distribution layer sets it when it starts; the
/// codecs of otter::ref use it.
std::uint16_t local_node_index() noexcept;
void set_local_node_index(std::uint16_t index) noexcept;

} // namespace otter::dist
