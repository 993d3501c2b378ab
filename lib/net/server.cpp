#include <otter/net/server.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include <otter/node.hpp>
#include <otter/spawn.hpp>
#include <otter/timer.hpp>

namespace otter::net {
namespace {

// What the server's processes share. `port` is set once, by the first
// listener; each connections slot is set by the start of that core's
// connections supervisor and read by the same core's acceptor.
//
// One port, one server: the first listener claims the port (listen_options::
// claim_port), the others join its SO_REUSEPORT group. `listening` counts the
// server's open listeners so that a restarted acceptor joins them, or claims
// the port again if none is left; `claimed` is the listener made by the start,
// until the first acceptor takes it. The listeners of different cores open and
// close on different threads: `listen_lock` guards these fields.
struct server_state {
  server_state(server_options o, connection_handler h, unsigned n)
      : options(std::move(o)), handler(std::move(h)), cores(n), connections(n) {}
  server_options options;
  connection_handler handler;
  unsigned cores;
  std::atomic<std::uint16_t> port{0};
  std::vector<std::atomic<pid>> connections;

  std::mutex listen_lock;
  unsigned listening = 0;
  tcp_listener claimed;
  bool announced = false;                   // on_listening was called
  std::optional<exit_reason> listen_failed; // the first failure since the start began
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

// The handler's process: the idle timeout is set on its core before it runs.
process connection(shared st, tcp_socket socket) {
  socket.set_idle_timeout(st->options.idle_timeout);
  return st->handler(std::move(socket));
}

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

// "start_server 127.0.0.1:8080: address already in use": what a user needs
// to see, whichever listener of the server failed.
exit_reason listen_failure(const address& at, std::error_code e) {
  std::string why = e.message();
  if (!why.empty() && why[0] >= 'A' && why[0] <= 'Z') why[0] = static_cast<char>(why[0] - 'A' + 'a');
  return exit_reason::custom("start_server " + at.to_string() + ": " + why);
}

// Opens a listener of the server: claims the port if none of the server's
// listeners is open, joins them otherwise. Called with listen_lock held.
result<tcp_listener> open_listener(server_state& st) {
  address at = st.options.at;
  if (const std::uint16_t p = st.port.load(std::memory_order_acquire); p != 0) at = at.with_port(p);
  listen_options lo = st.options.listen;
  lo.reuse_port = true;
  lo.claim_port = st.listening == 0;
  auto listener = tcp_listener::listen(at, lo);
  if (!listener) {
    exit_reason why = listen_failure(at, listener.error());
    if (!st.listen_failed) st.listen_failed = why;
    return why;
  }
  ++st.listening;
  std::uint16_t none = 0;
  st.port.compare_exchange_strong(none, listener->local_address().port(), std::memory_order_acq_rel);
  return std::move(listener.value());
}

// A listener of the server, counted while it is open. Closing it under the
// lock keeps the count true for an acceptor restarting on another core.
class server_listener {
public:
  server_listener(shared st, tcp_listener l) noexcept : state_(std::move(st)), listener_(std::move(l)) {}
  server_listener(server_listener&&) noexcept = default;
  server_listener& operator=(server_listener&&) = delete;
  ~server_listener() {
    if (!state_) return; // moved from
    std::lock_guard<std::mutex> guard(state_->listen_lock);
    listener_.close();
    --state_->listening;
  }
  tcp_listener& get() noexcept { return listener_; }

private:
  shared state_;
  tcp_listener listener_;
};

process acceptor(shared st, unsigned core, server_listener listening) {
  tcp_listener& listener = listening.get();
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

// The listener for an acceptor: the one the start claimed, or a new one
// (joining the server's others, or claiming the port again after a crash left
// none open). `first` tells whether it is the first the server announces.
result<tcp_listener> take_listener(server_state& st, bool& first) {
  std::lock_guard<std::mutex> guard(st.listen_lock);
  if (!st.claimed.is_open()) return open_listener(st);
  first = !std::exchange(st.announced, true);
  return std::move(st.claimed);
}

task<result<pid>> start_acceptor(shared st, unsigned core) {
  bool first = false;
  auto taken = take_listener(*st, first);
  if (!taken) co_return result<pid>(taken.error());
  server_listener listener(st, std::move(taken.value()));
  if (first && st->options.on_listening) st->options.on_listening(listener.get().local_address());
  co_return spawn_link(on_scheduler(core), acceptor, st, core, std::move(listener));
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

// The first listener of a start, made before the tree so that a taken port
// fails the start with a plain reason before any process exists.
result<void> claim(server_state& st) {
  std::lock_guard<std::mutex> guard(st.listen_lock);
  st.listen_failed.reset();
  auto claimed = open_listener(st);
  if (!claimed) return claimed.error();
  st.claimed = std::move(claimed.value());
  return {};
}

// After a failed start: closes the claimed listener if no acceptor took it,
// and tells how a listener failed, if one did.
std::optional<exit_reason> unclaim(server_state& st) {
  std::lock_guard<std::mutex> guard(st.listen_lock);
  if (st.claimed.is_open()) {
    st.claimed.close();
    --st.listening;
  }
  return st.listen_failed;
}

// Claims the port, then starts the tree. A listener of another core that
// fails (it should not: the port is ours) is reported as plainly, rather than
// as the supervisors' nested failed_to_start_child.
task<result<pid>> start_claimed(shared st) {
  if (auto claimed = claim(*st); !claimed) co_return result<pid>(claimed.error());
  auto tree = co_await start_tree(st, {});
  if (tree) co_return tree;
  if (auto listen_failed = unclaim(*st)) co_return result<pid>(std::move(*listen_failed));
  co_return tree;
}

} // namespace

task<result<server_started>> start_server(server_options options, connection_handler handler) {
  shared st = make_state(std::move(options), std::move(handler));
  auto r = co_await start_claimed(st);
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
        return start_claimed(*made);
      },
      child_type::supervisor);
}

} // namespace otter::net
