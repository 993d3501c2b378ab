#include <otter/net/server.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>
#include <system_error>
#include <tuple>
#include <vector>

#include <otter/node.hpp>
#include <otter/spawn.hpp>
#include <otter/timer.hpp>

namespace otter::net {
namespace {

// What the server's processes share. `port` is set once, by the first
// listener; each connections slot is set by the start of that core's
// connections supervisor and read by the same core's acceptor.
struct server_state {
  server_state(server_options o, connection_handler h, unsigned n)
      : options(std::move(o)), handler(std::move(h)), cores(n), connections(n) {}
  server_options options;
  connection_handler handler;
  unsigned cores;
  std::atomic<std::uint16_t> port{0};
  std::vector<std::atomic<pid>> connections;
};
using shared = std::shared_ptr<server_state>;

supervisor_flags flags(restart_strategy s) {
  supervisor_flags f;
  f.strategy = s;
  f.intensity = 10;
  f.period = std::chrono::seconds(10);
  return f;
}

std::string on_core(const char* what, unsigned core) { return std::string(what) + " on core " + std::to_string(core); }

process connection(shared st, tcp_socket socket) { return st->handler(std::move(socket)); }

task<result<pid>> start_connections(shared st, unsigned core) {
  std::vector<child_spec> spec{child_spec::worker("connection", connection, st)
                                   .restart(restart_type::temporary)
                                   .shutdown(shutdown_spec::after(st->options.drain))};
  auto r = co_await supervisor::start_link(flags(restart_strategy::simple_one_for_one), std::move(spec), {},
                                           on_scheduler(core));
  if (r) st->connections[core].store(r.value(), std::memory_order_release);
  co_return r;
}

// Kernel errors after which the listener is fine and the next accept may work.
bool accept_can_go_on(std::error_code e) {
  const int v = e.value();
  return v == ECONNABORTED || v == EMFILE || v == ENFILE || v == ENOBUFS || v == ENOMEM || v == EPERM ||
         v == EINTR;
}

process acceptor(shared st, unsigned core, tcp_listener listener) {
  for (;;) {
    auto c = co_await listener.accept();
    if (!c) {
      if (!accept_can_go_on(c.error())) throw std::system_error(c.error(), "accept");
      // Out of descriptors or memory: give connections time to close rather than spin.
      if (c.error().value() != ECONNABORTED) co_await otter::sleep(std::chrono::milliseconds(10));
      continue;
    }
    // A failed start (the connections supervisor is restarting) drops this connection.
    co_await supervisor::start_child(st->connections[core].load(std::memory_order_acquire), std::move(c.value()));
  }
}

// Listens (on the port the first listener got, if the configured one is 0)
// and starts the acceptor with the listener.
task<result<pid>> start_acceptor(shared st, unsigned core) {
  address at = st->options.at;
  if (const std::uint16_t p = st->port.load(std::memory_order_acquire); p != 0) at = at.with_port(p);
  listen_options lo = st->options.listen;
  lo.reuse_port = true;
  auto listener = tcp_listener::listen(at, lo);
  if (!listener) co_return result<pid>(exit_reason::custom("listen on " + at.to_string() + ": " + listener.error().message()));
  const address bound = listener->local_address();
  std::uint16_t none = 0;
  if (st->port.compare_exchange_strong(none, bound.port()) && st->options.on_listening) st->options.on_listening(bound);
  co_return spawn_link(on_scheduler(core), acceptor, st, core, std::move(listener.value()));
}

// The connections supervisor of every core, as children of one
// simple_one_for_one supervisor: stopping the server tells the connections of
// all cores to stop at once, and they share one drain time.
task<result<pid>> start_connection_pool(shared st) {
  std::vector<child_spec> spec{child_spec(
      "connections",
      [st](child_args& args) {
        auto* core = args.get<std::tuple<unsigned>>();
        return start_connections(st, core != nullptr ? std::get<0>(*core) : 0);
      },
      child_type::supervisor)};
  auto pool = co_await supervisor::start_link(flags(restart_strategy::simple_one_for_one), std::move(spec));
  if (!pool) co_return pool;
  for (unsigned core = 0; core < st->cores; ++core) {
    auto started = co_await supervisor::start_child(pool.value(), core);
    if (!started) { // not expected (a supervisor starts or fails): give up as a start failure does
      otter::exit(pool.value(), exit_reason::kill());
      co_return result<pid>(started.error());
    }
  }
  co_return pool;
}

task<result<pid>> start_tree(shared st, std::string name) {
  std::vector<child_spec> acceptors;
  for (unsigned core = 0; core < st->cores; ++core)
    acceptors.push_back(
        child_spec(on_core("acceptor", core), [st, core](child_args&) { return start_acceptor(st, core); })
            .shutdown(shutdown_spec::brutal_kill()));
  std::vector<child_spec> top{
      child_spec("connections", [st](child_args&) { return start_connection_pool(st); }, child_type::supervisor),
      supervisor::spec("acceptors", flags(restart_strategy::one_for_one), std::move(acceptors))};
  return supervisor::start_link(flags(restart_strategy::rest_for_one), std::move(top), std::move(name));
}

shared make_state(server_options options, connection_handler handler) {
  const int available = std::max(1, scheduler_count());
  const int wanted = options.cores > 0 ? std::min(options.cores, available) : available;
  return std::make_shared<server_state>(std::move(options), std::move(handler), static_cast<unsigned>(wanted));
}

} // namespace

task<result<server_started>> start_server(server_options options, connection_handler handler) {
  shared st = make_state(std::move(options), std::move(handler));
  auto r = co_await start_tree(st, {});
  if (!r) co_return result<server_started>(r.error());
  co_return result<server_started>(server_started{r.value(), st->options.at.with_port(st->port.load())});
}

child_spec server_spec(std::string id, server_options options, connection_handler handler) {
  // The node (and so the number of cores) is known only when the spec starts.
  auto made = std::make_shared<shared>();
  return child_spec(
      std::move(id),
      [made, options = std::move(options), handler = std::move(handler)](child_args&) {
        if (!*made) *made = make_state(options, handler);
        return start_tree(*made, {});
      },
      child_type::supervisor);
}

} // namespace otter::net
