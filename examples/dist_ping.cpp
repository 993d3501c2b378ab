// dist_ping: an otter node that visits another node, as a client.
//
//   build/examples/dist_ping --name client@localhost --cookie secret [--epmd-port P] echo@localhost
//
// Pings the node, sends {self(), hello} to its `echo` process and prints what
// comes back. Exits 0 if every step answered, 1 otherwise.

#include <otter/otter.hpp>

#include <cstdio>
#include <string>

#include "dist_args.hpp"

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
  const dist_args::command_line c = dist_args::parse(argc, argv, o.distribution, false);
  if (!c.error.empty() || c.operands.size() != 1) {
    dist_args::usage(argv[0], c, "client@localhost", false, "TARGET_NODE");
    return 2;
  }
  const std::string target = c.operands[0];
  try {
    otter::node node(std::move(o));
    return node.run(visit, target);
  } catch (const otter::dist::start_error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
