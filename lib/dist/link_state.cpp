#include "link_state.hpp"

#include <otter/dist/node.hpp>
#include <otter/registry.hpp>

namespace otter::dist::detail {

using otter::detail::signal;

void link_state::came_up(const accepted& info) {
  index_ = intern_node(info.node, info.creation);
  p_->node_index.store(index_);
  p_->hidden.store((info.peer_flags & dflag::published) == 0); // a hidden node does not publish itself
  d_->routes[index_].store(p_.get(), std::memory_order_release);
  reader_ = frame_reader(d_->opts.max_frame);
  p_->up.store(true);
  if (d_->opts.log_connections) log_node(node_report::event::up, p_->name, info.peer_address);
  d_->announce(p_->name, true, exit_reason::normal(), p_->hidden.load());
}

void link_state::write(outbound& o, std::string& out) {
  const local_node me = d_->local();
  switch (o.what) {
  case outbound::op::send:
    if (!current(o.to)) return;
    // Streams go to one pid: its control message is encoded once.
    if (o.to != send_to_) {
      send_control_.clear();
      encode(term::tuple({term(ctrl::send), term::atom(""), term(o.to)}), send_control_, me, true);
      send_to_ = o.to;
    }
    append_frame_bytes(out, send_control_, o.encoded);
    return;
  case outbound::op::frames:
    if (o.index != index_) return; // made for an incarnation that is gone
    if (out.empty())
      out.swap(o.encoded);
    else
      out.append(o.encoded);
    return;
  case outbound::op::reg_send:
    append_frame_encoded(out,
                         term::tuple({term(ctrl::reg_send), term(o.from ? o.from : p_->process), term::atom(""),
                                      term::atom(o.name)}),
                         o.encoded, me);
    return;
  case outbound::op::link:
    if (!current(o.to)) {
      fail(o);
      return;
    }
    links_.insert({o.from.bits(), o.to.bits()});
    append_frame(out, term::tuple({term(ctrl::link), term(o.from), term(o.to)}), nullptr, me);
    return;
  case outbound::op::unlink:
    if (!current(o.to)) return;
    links_.erase({o.from.bits(), o.to.bits()});
    append_frame(out, term::tuple({term(ctrl::unlink_id), term(++unlink_id_), term(o.from), term(o.to)}), nullptr,
                 me);
    return;
  case outbound::op::link_exit:
    if (!current(o.to)) return;
    links_.erase({o.from.bits(), o.to.bits()});
    append_frame(out, term::tuple({term(ctrl::exit), term(o.from), term(o.to), to_term(o.reason)}), nullptr, me);
    return;
  case outbound::op::exit:
    if (!current(o.to)) return;
    append_frame(out, term::tuple({term(ctrl::exit2), term(o.from), term(o.to), to_term(o.reason)}), nullptr, me);
    return;
  case outbound::op::monitor:
    if (!current(o.to)) {
      fail(o);
      return;
    }
    monitors_out_[o.tag] = {o.from, o.to, {}};
    append_frame(out,
                 term::tuple({term(ctrl::monitor_p), term(o.from), term(o.to), term::from_ref(o.tag, d_->self_index)}),
                 nullptr, me);
    return;
  case outbound::op::monitor_name:
    monitors_out_[o.tag] = {o.from, pid{}, o.name};
    append_frame(out,
                 term::tuple({term(ctrl::monitor_p), term(o.from), term::atom(o.name),
                              term::from_ref(o.tag, d_->self_index)}),
                 nullptr, me);
    return;
  case outbound::op::demonitor: {
    auto it = monitors_out_.find(o.tag);
    if (it == monitors_out_.end()) return;
    // A monitor by name is removed by naming it, as Erlang's DEMONITOR_P does.
    const term target = it->second.remote ? term(it->second.remote) : term::atom(it->second.name);
    monitors_out_.erase(it);
    append_frame(out,
                 term::tuple({term(ctrl::demonitor_p), term(o.from), target, term::from_ref(o.tag, d_->self_index)}),
                 nullptr, me);
    return;
  }
  case outbound::op::down: {
    auto it = monitors_in_.find(o.tag);
    if (it == monitors_in_.end()) return;
    const monitor_in m = std::move(it->second);
    monitors_in_.erase(it);
    by_erl_ref_.erase(to_string(m.erl_ref));
    append_frame(out, term::tuple({term(ctrl::monitor_p_exit), m.target, term(m.remote), m.erl_ref, to_term(o.reason)}),
                 nullptr, me);
    return;
  }
  case outbound::op::spawn_request: {
    // {29, ReqId, From, GroupLeader, {M, F, Arity}, Opts} + Args. The group
    // leader is net_kernel, which answers the new process's io requests.
    spawns_[o.tag] = {o.from, o.link};
    const pid gl = whereis("net_kernel");
    const term opts = o.link ? term::list({term::atom("link")}) : term();
    append_frame_encoded(out,
                         term::tuple({term(ctrl::spawn_request), term::from_ref(o.tag, d_->self_index), term(o.from),
                                      term(gl ? gl : o.from),
                                      term::tuple({term::atom(o.name), term::atom(o.function),
                                                   term(static_cast<long long>(o.arity))}),
                                      opts}),
                         o.encoded, me);
    return;
  }
  case outbound::op::connect:
    if (o.from) send(o.from, connected{p_->name, true});
    return;
  case outbound::op::disconnect:
    return; // the caller (run) acts on it
  }
}

void link_state::fail(outbound& o) {
  switch (o.what) {
  case outbound::op::link:
    signal_local({signal::kind::link_exit, o.to, o.from, {}, exit_reason::noconnection()});
    break;
  case outbound::op::monitor:
  case outbound::op::monitor_name:
    signal_local({signal::kind::down, o.to, o.from, o.tag, exit_reason::noconnection()});
    break;
  case outbound::op::connect:
    if (o.from) send(o.from, connected{p_->name, false});
    break;
  case outbound::op::spawn_request:
    if (o.from) send(o.from, spawn_answer{o.tag, pid{}, exit_reason::noconnection()});
    break;
  default:
    break; // messages and the rest: dropped, as over a connection that is gone
  }
}

bool link_state::read(std::string_view body, std::string& out, std::string& why) {
  {
    pid to;
    term message;
    switch (parse_send_frame(body, to, message, d_->local(), why)) {
    case send_frame::ok:
      if (!to.is_remote()) deliver(to, std::move(message));
      return true;
    case send_frame::malformed:
      return false;
    case send_frame::not_send:
      break;
    }
  }
  control_message m;
  if (!parse_frame(body, m, d_->local(), why)) return false;
  const term& c = m.control;
  auto pid_at = [&](std::size_t i, pid& p) {
    if (c.size() <= i || c[i].type() != term::kind::pid) return false;
    p = c[i].as_pid();
    return true;
  };
  pid from, to;
  switch (m.op) {
  case ctrl::send:
  case ctrl::send_tt:
  case ctrl::send_sender:
  case ctrl::send_sender_tt:
    if (!pid_at(2, to)) return malformed(c, why);
    if (!to.is_remote()) deliver(to, std::move(m.payload));
    return true;
  case ctrl::reg_send:
  case ctrl::reg_send_tt:
    if (c.size() < 4 || !c[3].is_atom()) return malformed(c, why);
    if (const pid p = whereis(c[3].atom_name())) deliver(p, std::move(m.payload));
    return true;
  case ctrl::link:
    if (!pid_at(1, from) || !pid_at(2, to)) return malformed(c, why);
    if (!from.is_remote() || to.is_remote()) return true;
    links_.insert({to.bits(), from.bits()});
    signal_local({signal::kind::link, from, to, {}, {}});
    return true;
  case ctrl::unlink:
    if (!pid_at(1, from) || !pid_at(2, to)) return malformed(c, why);
    links_.erase({to.bits(), from.bits()});
    signal_local({signal::kind::unlink, from, to, {}, {}});
    return true;
  case ctrl::unlink_id:
    if (!pid_at(2, from) || !pid_at(3, to)) return malformed(c, why);
    links_.erase({to.bits(), from.bits()});
    signal_local({signal::kind::unlink, from, to, {}, {}});
    append_frame(out, term::tuple({term(ctrl::unlink_id_ack), c[1], term(to), term(from)}), nullptr, d_->local());
    return true;
  case ctrl::unlink_id_ack:
    return true;
  case ctrl::exit:
  case ctrl::exit_tt:
  case ctrl::payload_exit:
  case ctrl::payload_exit_tt: {
    if (!pid_at(1, from) || !pid_at(2, to)) return malformed(c, why);
    const bool in_payload = m.op == ctrl::payload_exit || m.op == ctrl::payload_exit_tt;
    const std::size_t at = m.op == ctrl::exit ? 3 : 4;
    if (!in_payload && c.size() <= at) return malformed(c, why);
    links_.erase({to.bits(), from.bits()});
    signal_local({signal::kind::link_exit, from, to, {}, reason_of(in_payload ? m.payload : c[at])});
    return true;
  }
  case ctrl::exit2:
  case ctrl::exit2_tt:
  case ctrl::payload_exit2:
  case ctrl::payload_exit2_tt: {
    if (!pid_at(1, from) || !pid_at(2, to)) return malformed(c, why);
    const bool in_payload = m.op == ctrl::payload_exit2 || m.op == ctrl::payload_exit2_tt;
    const std::size_t at = m.op == ctrl::exit2 ? 3 : 4;
    if (!in_payload && c.size() <= at) return malformed(c, why);
    signal_local({signal::kind::exit, from, to, {}, reason_of(in_payload ? m.payload : c[at])});
    return true;
  }
  case ctrl::monitor_p: {
    if (!pid_at(1, from) || c.size() < 4 || c[3].type() != term::kind::reference) return malformed(c, why);
    pid target;
    if (c[2].type() == term::kind::pid) target = c[2].as_pid();
    else if (c[2].is_atom()) target = whereis(c[2].atom_name());
    else return malformed(c, why);
    if (!target || target.is_remote()) {
      append_frame(out, term::tuple({term(ctrl::monitor_p_exit), c[2], term(from), c[3], term::atom("noproc")}),
                   nullptr, d_->local());
      return true;
    }
    const ref proxy = otter::detail::tl_scheduler->next_ref();
    by_erl_ref_[to_string(c[3])] = proxy;
    monitors_in_[proxy] = {c[3], from, c[2]};
    monitor_target_[proxy] = target;
    signal_local({signal::kind::monitor, from, target, proxy, {}});
    return true;
  }
  case ctrl::demonitor_p: {
    if (c.size() < 4) return malformed(c, why);
    auto it = by_erl_ref_.find(to_string(c[3]));
    if (it == by_erl_ref_.end()) return true;
    const ref proxy = it->second;
    by_erl_ref_.erase(it);
    const monitor_in m2 = std::move(monitors_in_[proxy]);
    monitors_in_.erase(proxy);
    signal_local({signal::kind::demonitor, m2.remote, monitor_target_[proxy], proxy, {}});
    monitor_target_.erase(proxy);
    return true;
  }
  case ctrl::monitor_p_exit:
  case ctrl::payload_monitor_p_exit: {
    const bool in_payload = m.op == ctrl::payload_monitor_p_exit;
    if (!pid_at(2, to) || c.size() < (in_payload ? 4u : 5u) || c[3].type() != term::kind::reference)
      return malformed(c, why);
    const std::optional<ref> tag = term_ref_to_local(c[3].as_ref(), d_->self_index);
    if (!tag) return true;
    auto it = monitors_out_.find(*tag);
    if (it == monitors_out_.end()) return true;
    const monitor_out mo = it->second;
    monitors_out_.erase(it);
    signal_local({signal::kind::down, mo.remote, mo.local, *tag, reason_of(in_payload ? m.payload : c[4])});
    return true;
  }
  case ctrl::spawn_reply:
  case ctrl::spawn_reply_tt: {
    // {31, ReqId, To, Flags, Result}: Result is the new pid or an error atom.
    if (c.size() < 5 || c[1].type() != term::kind::reference || !pid_at(2, to)) return malformed(c, why);
    const std::optional<ref> tag = term_ref_to_local(c[1].as_ref(), d_->self_index);
    if (!tag) return true;
    auto it = spawns_.find(*tag);
    if (it == spawns_.end()) return true;
    const spawn_pending sp = it->second;
    spawns_.erase(it);
    if (c[4].type() == term::kind::pid && c[4].as_pid().is_remote()) {
      const pid spawned = c[4].as_pid();
      if (sp.link) { // the peer linked the new process to the requester: so does this side
        links_.insert({sp.from.bits(), spawned.bits()});
        signal_local({signal::kind::link, spawned, sp.from, {}, {}});
      }
      deliver_answer(sp.from, spawn_answer{*tag, spawned, exit_reason::normal()});
    } else {
      const std::string error = c[4].is_atom() ? std::string(c[4].atom_name()) : to_string(c[4]);
      deliver_answer(sp.from, spawn_answer{*tag, pid{}, exit_reason::custom(error)});
    }
    return true;
  }
  case ctrl::spawn_request:
  case ctrl::spawn_request_tt:
    // otter runs no Erlang code: the peer's spawn_request gets `notsup`.
    if (c.size() < 6 || c[1].type() != term::kind::reference || !pid_at(2, from)) return malformed(c, why);
    append_frame(out, term::tuple({term(ctrl::spawn_reply), c[1], term(from), term(0), term::atom("notsup")}), nullptr,
                 d_->local());
    return true;
  case ctrl::node_link:
  case ctrl::group_leader:
    return true; // no group leaders here: ignored
  default:
    // Operations otter does not advertise (aliases) or does not know.
    why = "control message " + std::to_string(m.op) + " is not one otter accepts: " + to_string(c);
    return false;
  }
}

void link_state::went_down(const exit_reason& why) {
  p_->up.store(false);
  for (const auto& [local, remote] : links_)
    signal_local({signal::kind::link_exit, pid::from_bits(remote), pid::from_bits(local), {},
                  exit_reason::noconnection()});
  links_.clear();
  for (const auto& [tag, m] : monitors_out_)
    signal_local({signal::kind::down, m.remote, m.local, tag, exit_reason::noconnection()});
  monitors_out_.clear();
  for (const auto& [proxy, m] : monitors_in_)
    signal_local({signal::kind::demonitor, m.remote, monitor_target_[proxy], proxy, {}});
  monitors_in_.clear();
  monitor_target_.clear();
  by_erl_ref_.clear();
  for (const auto& [tag, sp] : spawns_) deliver_answer(sp.from, spawn_answer{tag, pid{}, exit_reason::noconnection()});
  spawns_.clear();
  if (d_->opts.log_connections) log_node(node_report::event::down, p_->name, why.to_string());
  d_->announce(p_->name, false, why, p_->hidden.load());
}
} // namespace otter::dist::detail
