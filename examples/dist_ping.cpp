// dist_ping: an otter node that visits another node, as a client.
//
//   build/examples/dist_ping --name client@localhost --cookie secret [--epmd-port P] echo@localhost
//
// Pings the node, sends {self(), hello} to its `echo` process and prints what
// comes back. Exits 0 if every step answered, 1 otherwise.

#include <otter/otter.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

otter::process visit(std::string target) {
  const bool pong = co_await otter::dist::ping(target);
  std::printf("ping %s: %s\n", target.c_str(), pong ? "pong" : "pang");
  if (!pong) otter::exit(otter::exit_reason::noconnection());

  otter::send(otter::dist::remote_name{"echo", target}, otter::term::tuple({otter::term(otter::self()), otter::term::atom("hello")}));
  auto back = co_await otter::receive([](otter::term t) { return std::optional<otter::term>(std::move(t)); },
                                      otter::after(std::chrono::seconds(10), [] { return std::optional<otter::term>(); }));
  if (!back) otter::exit(otter::exit_reason::timeout());
  std::printf("echo: %s\n", otter::to_string(*back).c_str());
}

} // namespace

int main(int argc, char** argv) {
  otter::node_options o;
  o.distribution.name = "client@localhost";
  std::string target;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--name" && has_value) {
      o.distribution.name = argv[++i];
    } else if (arg == "--cookie" && has_value) {
      o.distribution.cookie = argv[++i];
    } else if (arg == "--epmd-port" && has_value) {
      o.distribution.epmd_port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    } else if (target.empty() && arg[0] != '-') {
      target = arg;
    } else {
      target.clear();
      break;
    }
  }
  if (target.empty()) {
    std::fprintf(stderr, "usage: %s [--name NODE] [--cookie COOKIE] [--epmd-port PORT] TARGET_NODE\n", argv[0]);
    return 2;
  }
  try {
    otter::node node(std::move(o));
    return node.run(visit, target);
  } catch (const otter::dist::start_error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
