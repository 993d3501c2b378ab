// Distribution's glue to the core: starting and stopping it with node::run,
// routing sends and signals to remote pids, and the public calls of
// otter/dist/node.hpp. The connections themselves are in connection.cpp.

#include "runtime.hpp"

#include <algorithm>
#include <iterator>
#include <future>

#include <otter/dist/codec.hpp>
#include <otter/dist/node.hpp>
#include <otter/dist/node_table.hpp>
#include <otter/errors.hpp>
#include <otter/monitor.hpp>
#include <otter/receive.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>

#include "../node_state.hpp"
#include "../process_ext.hpp"
#include "../scheduler.hpp"
#include "connection.hpp"
#include "cookie.hpp"
#include "epmd.hpp"
#include "frame.hpp"
#include "names.hpp"

namespace otter::dist::detail {

using otter::detail::envelope;
using otter::detail::scheduler;
using otter::detail::signal;

dist_node* current() noexcept {
  scheduler* s = otter::detail::tl_scheduler;
  return s != nullptr ? s->node().dist.get() : nullptr;
}

std::shared_ptr<peer> dist_node::find(std::string_view node) {
  std::lock_guard lock(mutex);
  auto it = peers.find(std::string(node));
  return it == peers.end() ? nullptr : it->second;
}

bool peer_name_fits(const dist_node& d, std::string_view node, std::string* why) {
  // Appended piece by piece: g++ 12 warns falsely (-Wrestrict) on a chain of string +.
  const auto at = node.find('@');
  if (at == std::string_view::npos) {
    if (why != nullptr) {
      why->assign(node.substr(0, 300));
      why->append(" is not a node name (no '@host')");
    }
    return false;
  }
  const bool dotted = node.find('.', at) != std::string_view::npos;
  if (dotted != d.long_names) {
    if (why != nullptr) {
      why->assign(node.substr(0, 300));
      why->append(dotted ? " is a long name (its host has dots) and this node uses short names"
                         : " is a short name (its host has no dots) and this node uses long names");
    }
    return false;
  }
  return parse_node_name(node, d.long_names, why).has_value();
}

std::shared_ptr<peer> dist_node::find_or_start(std::string_view node) {
  if (node == name) return nullptr;
  {
    std::lock_guard lock(mutex);
    if (auto it = peers.find(std::string(node)); it != peers.end()) return it->second;
  }
  std::string error;
  if (!peer_name_fits(*this, node, &error)) {
    // Erlang refuses these too (a -sname node cannot reach a -name one): say why.
    if (opts.log_connections) log_node(node_report::event::failed, std::string(node.substr(0, 300)), error);
    return nullptr;
  }
  auto p = std::make_shared<peer>();
  p->name = std::string(node);
  p->outbox_count = this->node->size();
  p->outboxes = std::make_unique<outbox[]>(p->outbox_count);
  std::lock_guard lock(mutex);
  if (auto it = peers.find(p->name); it != peers.end()) return it->second; // another core won
  // Spread over the cores: each connection's encoding and socket work runs on its process's core.
  p->process = spawn(spread(), node_process, this, p);
  peers.emplace(p->name, p);
  return p;
}

peer* dist_node::route(pid remote) {
  const remote_pid_parts parts = remote_parts(remote);
  if (parts.node == self_index) return nullptr;
  std::atomic<peer*>& slot = routes[parts.node];
  if (peer* p = slot.load(std::memory_order_acquire)) return p;
  if (parts.node == 0) return nullptr; // nonode@nohost: a pid of a node that was not distributed
  const std::shared_ptr<peer> p = find_or_start(node_at(parts.node).name);
  if (!p) return nullptr;
  slot.store(p.get(), std::memory_order_release);
  return p.get();
}

void enqueue(scheduler& s, peer& p, outbound&& o) {
  outbox& box = p.outboxes[s.index()];
  bool tell;
  {
    std::lock_guard lock(box.mutex);
    box.items.push_back(std::move(o));
    tell = !std::exchange(box.told, true);
  }
  if (tell) s.deliver(p.process, otter::detail::make_message<drain>(drain{}));
}

void take_outboxes(peer& p, std::vector<outbound>& into) {
  for (unsigned i = 0; i < p.outbox_count; ++i) {
    outbox& box = p.outboxes[i];
    std::lock_guard lock(box.mutex);
    if (box.items.empty()) {
      box.told = false;
      continue;
    }
    if (into.empty())
      into.swap(box.items); // the outbox keeps the spare capacity
    else
      std::move(box.items.begin(), box.items.end(), std::back_inserter(into)), box.items.clear();
    box.told = false;
  }
}

void dist_node::announce(const std::string& node, bool up, const exit_reason& why, bool hidden) {
  std::vector<pid> to;
  {
    std::lock_guard lock(mutex);
    for (auto it = watches.begin(); it != watches.end();) {
      if ((it->node.empty() && !hidden) || it->node == node) {
        to.push_back(it->watcher);
        if (!up && !it->node.empty()) { // monitor_node: one nodedown, then it is gone
          it = watches.erase(it);
          continue;
        }
      }
      ++it;
    }
  }
  for (pid w : to) {
    if (up)
      send(w, nodeup{node});
    else
      send(w, nodedown{node, why});
  }
}

void route_message(scheduler& s, pid to, envelope* e) {
  otter::detail::envelope_guard guard{e};
  dist_node* d = s.node().dist.get();
  const auto encode_payload = e->tag->to_term;
  if (encode_payload == nullptr)
    throw badarg("otter::send to the remote pid " + to_string(to) +
                 ": the message's type has no term codec (see otter/dist/codec.hpp)");
  if (d == nullptr) return; // not distributed: no node to send it to
  peer* p = d->route(to);
  if (p == nullptr) return;
  term value;
  encode_payload(e, value);
  const std::uint16_t index = remote_parts(to).node;
  if (p->up.load(std::memory_order_acquire) && p->node_index.load(std::memory_order_relaxed) == index) {
    // The incarnation is up: the frame is made here, in the sender's context
    // and on its core, and joins the frames this scheduler has for the peer.
    outbox& box = p->outboxes[s.index()];
    bool tell;
    {
      std::lock_guard lock(box.mutex);
      if (box.items.empty() || box.items.back().what != outbound::op::frames || box.items.back().index != index) {
        outbound f;
        f.what = outbound::op::frames;
        f.index = index;
        box.items.push_back(std::move(f));
      }
      if (box.control_for != to) {
        box.control.clear();
        encode(term::tuple({term(ctrl::send), term::atom(""), term(to)}), box.control, d->local(), true);
        box.control_for = to;
      }
      std::string& out = box.items.back().encoded;
      const std::size_t at = out.size();
      try {
        append_frame_encoded_payload(out, box.control, value, d->local());
      } catch (...) {
        out.resize(at); // no half frame in the stream
        throw;
      }
      tell = !std::exchange(box.told, true);
    }
    if (tell) s.deliver(p->process, otter::detail::make_message<drain>(drain{}));
    return;
  }
  outbound o;
  o.what = outbound::op::send;
  o.from = self();
  o.to = to;
  encode(value, o.encoded, d->local(), true);
  enqueue(s, *p, std::move(o));
}

namespace {

struct outside_send {
  pid to;
  envelope* e;
};

void route_outside_send(scheduler& s, void* arg) {
  std::unique_ptr<outside_send> m(static_cast<outside_send*>(arg));
  try {
    route_message(s, m->to, m->e); // consumes the envelope
  } catch (...) {
    // Out of memory encoding it: dropped, as a send to a gone connection is.
  }
}

} // namespace

void send_from_outside(otter::detail::node_state& st, pid to, envelope* e) {
  if (e->tag->to_term == nullptr) {
    otter::detail::destroy(e);
    throw badarg("otter::node::send to the remote pid " + to_string(to) +
                 ": the message's type has no term codec (see otter/dist/codec.hpp)");
  }
  auto m = std::make_unique<outside_send>(outside_send{to, e});
  try {
    // Scheduler 0 routes every such send, so one thread's sends keep their
    // order; it drops them if the node is not distributed when they arrive.
    st.schedulers[0]->run_soon(&route_outside_send, m.get());
  } catch (...) {
    otter::detail::destroy(e);
    throw;
  }
  (void)m.release();
}

namespace {

outbound::op op_of(signal::kind k) noexcept {
  switch (k) {
  case signal::kind::link: return outbound::op::link;
  case signal::kind::unlink: return outbound::op::unlink;
  case signal::kind::link_exit: return outbound::op::link_exit;
  case signal::kind::exit: return outbound::op::exit;
  case signal::kind::monitor: return outbound::op::monitor;
  case signal::kind::demonitor: return outbound::op::demonitor;
  case signal::kind::down: return outbound::op::down;
  }
  return outbound::op::send;
}

} // namespace

void route_signal(scheduler& s, const signal& sig) {
  dist_node* d = s.node().dist.get();
  peer* p = d != nullptr ? d->route(sig.target) : nullptr;
  if (p == nullptr) {
    // No node to carry it: a link or a monitor finds no connection at once.
    if (sig.what == signal::kind::link)
      otter::detail::send_signal(s, {signal::kind::link_exit, sig.target, sig.from, {}, exit_reason::noconnection()});
    else if (sig.what == signal::kind::monitor)
      otter::detail::send_signal(s, {signal::kind::down, sig.target, sig.from, sig.tag, exit_reason::noconnection()});
    return;
  }
  outbound o;
  o.what = op_of(sig.what);
  o.from = sig.from;
  o.to = sig.target;
  o.tag = sig.tag;
  o.reason = sig.reason;
  enqueue(s, *p, std::move(o));
}

bool post(std::string_view node, outbound&& out) {
  dist_node* d = current();
  if (d == nullptr) return false;
  const std::shared_ptr<peer> p = d->find_or_start(node);
  if (!p) return false;
  enqueue(*otter::detail::tl_scheduler, *p, std::move(out)); // in order with this core's sends
  return true;
}

// ---------------------------------------------------------------- start and stop

namespace {

struct boot_result {
  std::promise<void> done;
};

} // namespace

void start(otter::detail::node_state& st) {
  const options& o = st.options.distribution;
  if (o.name.empty()) return;
  auto d = std::make_unique<dist_node>();
  d->node = &st;
  d->opts = o;
  std::string error;
  // A name whose host has dots is a long name, as with erl -name.
  const auto at = o.name.find('@');
  d->long_names = o.long_names || (at != std::string::npos && o.name.find('.', at) != std::string::npos);
  const std::optional<node_name> n = parse_node_name(o.name, d->long_names, &error);
  if (!n) throw start_error("otter: distribution: the node name \"" + o.name + "\": " + error);
  d->name = n->full();
  d->alive = n->alive;
  d->host = n->host;
  if (!o.cookie.empty()) {
    d->cookie = o.cookie;
  } else {
    cookie_result c = default_cookie();
    if (!c.error.empty()) throw start_error("otter: distribution: " + c.error);
    d->cookie = std::move(c.cookie);
  }
  const std::uint16_t epmd_port = o.epmd_port != 0 ? o.epmd_port : epmd_port_from_env();
  d->epmd = net::address::loopback_v4(epmd_port);
  d->routes = std::make_unique<std::atomic<peer*>[]>(65536);
  st.dist.reset(d.release());

  auto result = std::make_shared<boot_result>();
  std::future<void> done = result->done.get_future();
  process boot = boot_process(st.dist.get(), [result](std::exception_ptr e) {
    if (e)
      result->done.set_exception(e);
    else
      result->done.set_value();
  });
  process::promise_type& p = boot.release().promise();
  st.schedulers[0]->reserve(p);
  st.schedulers[0]->adopt(p);
  done.get(); // throws start_error; node::run then stops what was started
}

void stop(otter::detail::node_state& st) noexcept {
  if (st.dist && local_node_index() == st.dist->self_index) set_local_node_index(0);
  st.dist.reset();
}

void dist_node_delete::operator()(dist_node* d) const noexcept { delete d; }

} // namespace otter::dist::detail

// ---------------------------------------------------------------- the public calls

namespace otter::dist {

using detail::current;
using detail::outbound;

std::string this_node() {
  detail::dist_node* d = current();
  return d != nullptr ? d->name : "nonode@nohost";
}

bool alive() { return current() != nullptr; }

std::uint32_t creation() {
  detail::dist_node* d = current();
  return d != nullptr ? d->creation : 0;
}

std::string node_of(pid p) {
  if (!p.is_remote()) return this_node();
  return node_at(remote_parts(p).node).name;
}

std::vector<std::string> nodes(bool hidden) {
  std::vector<std::string> out;
  detail::dist_node* d = current();
  if (d == nullptr) return out;
  std::lock_guard lock(d->mutex);
  for (const auto& [name, p] : d->peers)
    if (p->up.load() && (hidden || !p->hidden.load())) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

task<bool> connect(std::string node) {
  detail::dist_node* d = current();
  if (d == nullptr) co_return false;
  if (node == d->name) co_return true;
  outbound o;
  o.what = outbound::op::connect;
  o.from = self();
  if (!detail::post(node, std::move(o))) co_return false;
  const auto limit = d->opts.setup_time * 4; // epmd, connect, handshake, and a simultaneous attempt
  const bool up = co_await receive(
      when([&node](const detail::connected& c) { return c.node == node; },
           [](detail::connected c) { return c.up; }),
      after(limit, [] { return false; }));
  co_return up;
}

task<bool> ping(std::string node, std::chrono::milliseconds timeout) {
  detail::dist_node* d = current();
  if (d == nullptr) co_return false;
  if (node == d->name) co_return true;
  const bool up = co_await connect(node);
  if (!up) co_return false;
  const term tag = term::from_ref(make_ref(), d->self_index);
  term request = term::tuple({term::atom("$gen_call"), term::tuple({term(self()), tag}),
                              term::tuple({term::atom("is_auth"), term::atom(d->name)})});
  detail::send_term({"net_kernel", node}, std::move(request));
  const bool pong = co_await receive(
      when([&tag](const term& t) { return t.is_tuple(2) && t[0] == tag; },
           [](term t) { return t[1].is_atom("yes"); }),
      after(timeout, [] { return false; }));
  co_return pong;
}

task<result<pid>> spawn_request(std::string node, std::string module, std::string function, term args,
                                spawn_request_options options) {
  detail::dist_node* d = current();
  if (d == nullptr) co_return exit_reason::noconnection();
  if (!args.is_proper_list())
    co_return exit_reason::error("badarg", "spawn_request: the arguments are not a proper list: " + to_string(args));
  if (node == d->name) co_return exit_reason::error("badarg", "spawn_request to this node (use otter::spawn)");
  outbound o;
  o.what = outbound::op::spawn_request;
  o.from = self();
  o.tag = make_ref();
  o.name = std::move(module);
  o.function = std::move(function);
  o.arity = static_cast<std::uint32_t>(args.size());
  o.link = options.link;
  encode(args, o.encoded, d->local(), true);
  const ref tag = o.tag;
  if (!detail::post(node, std::move(o))) co_return exit_reason::noconnection();
  std::optional<detail::spawn_answer> answer = co_await receive(
      when([tag](const detail::spawn_answer& a) { return a.tag == tag; },
           [](detail::spawn_answer a) { return std::optional<detail::spawn_answer>(std::move(a)); }),
      after(options.timeout, [] { return std::optional<detail::spawn_answer>(); }));
  if (!answer) co_return exit_reason::timeout(); // a reply that comes later is dropped here: the node process forgot it
  if (!answer->spawned) co_return answer->error;
  co_return answer->spawned;
}

void disconnect(std::string_view node) {
  outbound o;
  o.what = outbound::op::disconnect;
  (void)detail::post(node, std::move(o));
}

void monitor_node(std::string_view node, bool on) {
  detail::dist_node* d = current();
  const pid me = self();
  if (d == nullptr || node == d->name) {
    // Not distributed (or ourselves): Erlang answers with a nodedown at once.
    if (on && (d == nullptr || node != d->name)) send(me, nodedown{std::string(node), exit_reason::noconnection()});
    return;
  }
  {
    std::lock_guard lock(d->mutex);
    if (!on) {
      for (auto it = d->watches.begin(); it != d->watches.end(); ++it)
        if (it->watcher == me && it->node == node) {
          d->watches.erase(it);
          break;
        }
      return;
    }
    d->watches.push_back({me, std::string(node)});
  }
  // Connects; if that fails the node process announces the nodedown.
  outbound o;
  o.what = outbound::op::connect;
  if (!detail::post(node, std::move(o))) d->announce(std::string(node), false, exit_reason::noconnection());
}

void monitor_nodes(bool on) {
  detail::dist_node* d = current();
  if (d == nullptr) return;
  const pid me = self();
  std::lock_guard lock(d->mutex);
  if (on) {
    d->watches.push_back({me, {}});
  } else {
    for (auto it = d->watches.begin(); it != d->watches.end(); ++it)
      if (it->watcher == me && it->node.empty()) {
        d->watches.erase(it);
        break;
      }
  }
}

namespace detail {

void send_term(const remote_name& to, term&& message) {
  dist_node* d = current();
  if (d == nullptr) return;
  if (to.node == d->name) { // ourselves: the local registry
    if (pid p = whereis(to.name)) send(p, std::move(message));
    return;
  }
  outbound o;
  o.what = outbound::op::reg_send;
  o.from = self();
  o.name = to.name;
  encode(message, o.encoded, d->local(), true);
  (void)post(to.node, std::move(o));
}

pid node_placeholder(std::string_view node) {
  const std::uint16_t index = intern_node(node, 0);
  return index == 0xffff ? pid{} : make_remote_pid(index, 0, 0);
}

ref monitor_remote(const remote_name& target) {
  otter::detail::pcb& me = otter::detail::current_process("otter::monitor");
  otter::detail::scheduler& s = *otter::detail::tl_scheduler;
  dist_node* d = current();
  if (d == nullptr || target.node == d->name) {
    pid p = whereis(target.name);
    if (p) return monitor(p);
    const ref tag = s.next_ref();
    send(me.self, down_message{tag, pid{}, exit_reason::noproc()});
    return tag;
  }
  const ref tag = s.next_ref();
  const std::shared_ptr<peer> p = d->find_or_start(target.node);
  if (!p) {
    send(me.self, down_message{tag, pid{}, exit_reason::noconnection()});
    return tag;
  }
  // The monitor's entry names the peer node by a placeholder remote pid (the
  // node at creation 0, ID 0): demonitor, and this process's exit, route a
  // demonitor signal through it to the node process, which names the monitor
  // to the peer (DEMONITOR_P with the name).
  otter::detail::ext_of(me).monitors.push_back({tag, node_placeholder(target.node)});
  outbound o;
  o.what = outbound::op::monitor_name;
  o.from = me.self;
  o.tag = tag;
  o.name = target.name;
  s.deliver(p->process, otter::detail::make_message<outbound>(std::move(o)));
  return tag;
}

} // namespace detail
} // namespace otter::dist
