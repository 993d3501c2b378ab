#pragma once
// What the example servers share: their command line (--host, --port,
// --schedulers) and their life: serve until SIGINT/SIGTERM, then stop gracefully.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <sys/resource.h>

#include <otter/errors.hpp>
#include <otter/exit_reason.hpp>
#include <otter/link.hpp>
#include <otter/net/address.hpp>
#include <otter/node.hpp>
#include <otter/receive.hpp>
#include <otter/task.hpp>

struct server_cli {
  otter::net::address at;
  unsigned schedulers = 0; // 0: one per core
};

// Parses argv, or prints usage and returns nothing (exit status 2).
inline std::optional<server_cli> parse_server_cli(int argc, char** argv, std::uint16_t default_port) {
  std::string host = "127.0.0.1";
  long port = default_port;
  long schedulers = 0;
  auto usage = [argv] {
    std::fprintf(stderr,
                 "usage: %s [--host ADDRESS] [--port PORT] [--schedulers N]\n"
                 "  --host        numeric IPv4 or IPv6 address to listen on (default 127.0.0.1)\n"
                 "  --port        TCP port; 0 picks a free one (printed)\n"
                 "  --schedulers  cores to run on (default: all)\n",
                 argv[0]);
  };
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    char* end = nullptr;
    if (std::strcmp(argv[i], "--host") == 0 && has_value) {
      host = argv[++i];
    } else if (std::strcmp(argv[i], "--port") == 0 && has_value) {
      port = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || port < 0 || port > 65535) {
        usage();
        return std::nullopt;
      }
    } else if (std::strcmp(argv[i], "--schedulers") == 0 && has_value) {
      schedulers = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || schedulers < 0 || schedulers > 255) {
        usage();
        return std::nullopt;
      }
    } else {
      usage();
      return std::nullopt;
    }
  }
  auto at = otter::net::address::parse(host, static_cast<std::uint16_t>(port));
  if (!at) {
    std::fprintf(stderr, "%s: '%s' is not a numeric IP address\n", argv[0], host.c_str());
    return std::nullopt;
  }
  // A server holds a descriptor per connection: allow as many as the system lets us.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &files);
  }
  return server_cli{*at, static_cast<unsigned>(schedulers)};
}

// Ends the main process of a server that could not start (so `run` returns
// 1), saying why on stderr in one line: `start_server 127.0.0.1:8080: address
// already in use`. A server started inside your own tree comes back wrapped by
// your supervisor, {shutdown,"failed_to_start_child ID: WHY"}: WHY is shown.
[[noreturn]] inline void fail_to_start(const otter::exit_reason& reason) {
  constexpr std::string_view wrapped = "failed_to_start_child ";
  const std::string_view detail = reason.detail();
  std::string why = reason.to_string();
  if (reason.get_kind() == otter::exit_reason::kind::shutdown && detail.starts_with(wrapped))
    if (const auto colon = detail.find(": "); colon != std::string_view::npos) why = detail.substr(colon + 2);
  std::fprintf(stderr, "%s\n", why.c_str());
  otter::exit(reason);
}

// The main process of a server, which traps exits: waits until the node is
// asked to stop (SIGINT or SIGTERM arrive as an exit signal `shutdown` from no
// process), then stops `server` — its tree stops accepting, lets connections
// finish within their drain time, and exits. If the server dies on its own,
// the main process exits with its reason.
inline otter::task<> serve_until_stopped(otter::pid server) {
  const otter::exit_message first = co_await otter::receive<otter::exit_message>();
  if (first.from == server) otter::exit(first.reason); // the server gave up
  std::fprintf(stderr, "stopping: no new connections; open ones get time to finish\n");
  otter::exit(server, otter::exit_reason::shutdown());
  const otter::exit_message done = co_await otter::receive(otter::when(
      [server](const otter::exit_message& e) { return e.from == server; }, [](otter::exit_message e) { return e; }));
  std::fprintf(stderr, "stopped: %s\n", done.reason.to_string().c_str());
}

// A server's main(): parses the command line, then runs `main_process(address)`
// on a node with the schedulers asked for, stopping gracefully on SIGINT or
// SIGTERM. Exit status: the node's (0 after a clean stop), 2 for a bad
// command line, 1 if the kernel refuses io_uring — said on stderr in one line
// (a seccomp policy, a disabled io_uring, an old kernel: the message names it).
template <typename MainProcess>
int run_server(int argc, char** argv, std::uint16_t default_port, MainProcess main_process) {
  try {
    const auto cli = parse_server_cli(argc, argv, default_port);
    if (!cli) return 2;
    otter::node_options options;
    options.schedulers = cli->schedulers;
    options.stop_on_signals = true;
    otter::node node(options);
    return node.run(main_process, cli->at);
  } catch (const otter::runtime_unavailable& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
