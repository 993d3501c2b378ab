// dist_echo: an otter node that Erlang nodes (and other otter nodes) talk to.
//
//   build/examples/dist_echo --name echo@localhost --cookie secret [--epmd-port P] [--serve-epmd]
//
// Registers two processes, reachable from any node of the cluster:
//   echo     {Pid, Term} → sends Term back to Pid; {Pid, self} → sends its own pid
//   counter  a gen_server: gen_server:call({counter, Node}, {add, N}) → the new total
// From Erlang (erl -sname e -setcookie secret):
//   net_adm:ping('echo@localhost').                    % pong
//   {echo, 'echo@localhost'} ! {self(), hello}, flush(). % Shell got hello
//   gen_server:call({counter, 'echo@localhost'}, {add, 5}).  % 5
// Runs until SIGINT or SIGTERM.

#include <otter/otter.hpp>

#include <cstdio>
#include <string>

#include "dist_args.hpp"

namespace {

// Messages from other nodes arrive as Erlang terms (otter::term).
otter::process echo() {
  otter::register_name("echo", otter::self());
  for (;;) {
    otter::term t = co_await otter::receive([](otter::term m) { return m; });
    if (!t.is_tuple(2) || !t[0].is_pid()) continue; // not {Pid, Term}: ignored
    const otter::pid from = t[0].as_pid();
    if (t[1].is_atom("self"))
      otter::send(from, otter::term(otter::self()));
    else
      otter::send(from, t[1]);
  }
}

// The counter: a gen_server that callers on other nodes reach with
// gen_server:call({counter, Node}, {add, N}). remote_requests lists what may
// come from other nodes; term_fields makes `add` the Erlang term {add, N}.
struct add {
  long n;
  static constexpr auto term_fields = otter::term_tuple("add", &add::n);
};

class counter {
public:
  using remote_requests = otter::gen_server::remote<add>;
  long handle_call(add a) { return total_ += a.n; }

private:
  long total_ = 0;
};

struct never {};

otter::process node_main() {
  otter::spawn_link(echo);
  auto started = co_await otter::gen_server::start_link<counter>(otter::gen_server::start_options().named("counter"));
  (void)started.value();
  std::printf("dist_echo: node %s up (creation %u)\n", otter::dist::this_node().c_str(), otter::dist::creation());
  std::fflush(stdout);
  co_await otter::receive([](never) {}); // until SIGINT/SIGTERM stops the node
}

} // namespace

int main(int argc, char** argv) {
  otter::node_options o;
  o.stop_on_signals = true;
  o.distribution.name = "echo@localhost";
  const dist_args::command_line c = dist_args::parse(argc, argv, o.distribution, true);
  if (!c.error.empty() || !c.operands.empty()) {
    dist_args::usage(argv[0], c, "echo@localhost", true);
    return 2;
  }
  try {
    otter::node node(std::move(o));
    return node.run(node_main);
  } catch (const otter::dist::start_error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
