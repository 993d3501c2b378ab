#pragma once
// The external term format: otter::term to and from the bytes Erlang nodes exchange.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <otter/dist/term.hpp>

namespace otter::dist {

/// Who "this node" is while coding: its pids are written with this name and
/// creation, and pids, references and ports of this name and creation decode as
/// local ones. `index` = intern_node(name, creation). Not distributed: {"nonode@nohost", 0, 0}.
struct local_node {
  std::string_view name;
  std::uint32_t creation;
  std::uint16_t index;
};

/// Bounds on what one decode may build, so hostile input cannot exhaust the
/// stack or memory. Every count and length is also checked against the bytes
/// left before anything is allocated.
struct decode_limits {
  std::size_t max_depth = 1000;          // nesting of tuples, lists, maps and funs
  std::size_t max_elements = 1 << 24;    // terms built, all levels together
  std::size_t max_bytes = 64 << 20;      // bytes of binaries, atoms and big integers together
};

struct decode_result {
  bool ok;
  std::size_t consumed; // bytes of `in` read (on success)
  std::string error;    // on failure: what and where, e.g. "truncated at byte 12", "unknown tag 99 at byte 1"
};

/// Decodes one term from the start of `in` (after a 131 version byte if
/// `expect_version`). Bytes after the term are left unread (see `consumed`).
/// Never throws for bad input; on failure `out` is unchanged.
decode_result decode(std::span<const std::byte> in, term& out, const local_node& local,
                     bool expect_version = true, const decode_limits& limits = {});

/// Appends the encoding of `t` to `out` (with a leading 131 if `with_version`),
/// using the tags OTP 25 sends over a connection: SMALL_ATOM_UTF8/ATOM_UTF8,
/// SMALL_INTEGER/INTEGER/SMALL_BIG/LARGE_BIG, NEW_FLOAT, STRING for proper
/// lists of at most 65535 integers 0..255, NEW_PID, NEWER_REFERENCE,
/// NEW_PORT/V4_PORT; funs are written back as they were read.
void encode(const term& t, std::string& out, const local_node& local, bool with_version = true);

} // namespace otter::dist
