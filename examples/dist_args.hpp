#pragma once
// The command line the distribution examples share:
//
//   --name NODE  --cookie COOKIE  --epmd-port PORT  [--serve-epmd]  [OPERAND...]
//
// parse() fills a node's distribution options from it and collects the
// operands; a bad option or value gives a message for usage().

#include <otter/dist/options.hpp>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace dist_args {

struct command_line {
  std::vector<std::string> operands; ///< the arguments that are not options, in order
  std::string error;                 ///< why the command line is wrong (empty: it is right)
};

/// Reads argv into `o` (name, cookie, epmd_port, and epmd = serve for
/// --serve-epmd when `serve_allowed`).
inline command_line parse(int argc, char** argv, otter::dist::options& o, bool serve_allowed) {
  command_line c;
  for (int i = 1; i < argc && c.error.empty(); ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if ((arg == "--name" || arg == "--cookie" || arg == "--epmd-port") && !has_value) {
      c.error = std::string(arg) + " needs a value";
    } else if (arg == "--name") {
      o.name = argv[++i];
    } else if (arg == "--cookie") {
      o.cookie = argv[++i];
    } else if (arg == "--epmd-port") {
      const std::string_view v = argv[++i];
      unsigned port = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), port);
      if (ec != std::errc() || end != v.data() + v.size() || port == 0 || port > 65535)
        c.error = "--epmd-port: \"" + std::string(v) + "\" is not a port number (1-65535)";
      else
        o.epmd_port = static_cast<std::uint16_t>(port);
    } else if (arg == "--serve-epmd" && serve_allowed) {
      o.epmd = otter::dist::epmd_mode::serve;
    } else if (arg.starts_with("-")) {
      c.error = "unknown option " + std::string(arg);
    } else {
      c.operands.emplace_back(arg);
    }
  }
  return c;
}

/// Prints the usage line and the shared options to stderr; `operands` and
/// `more` describe what the example adds.
inline void usage(const char* program, const command_line& c, const char* default_name, bool serve_allowed,
                  const char* operands = "", const char* more = "") {
  if (!c.error.empty()) std::fprintf(stderr, "%s: %s\n", program, c.error.c_str());
  std::fprintf(stderr,
               "usage: %s [--name NODE] [--cookie COOKIE] [--epmd-port PORT]%s%s%s\n"
               "  --name        the node's name (default %s)\n"
               "  --cookie      the cookie (default: ~/.erlang.cookie)\n"
               "  --epmd-port   epmd's port (default: $ERL_EPMD_PORT or 4369)\n"
               "%s%s",
               program, serve_allowed ? " [--serve-epmd]" : "", *operands != '\0' ? " " : "", operands, default_name,
               serve_allowed ? "  --serve-epmd  serve epmd's protocol (no Erlang needed on this machine)\n" : "", more);
}

} // namespace dist_args
