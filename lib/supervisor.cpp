#include <otter/supervisor.hpp>

#include <algorithm>
#include <deque>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <otter/logger.hpp>
#include <otter/monitor.hpp>
#include <otter/receive.hpp>
#include <otter/registry.hpp>
#include <otter/timer.hpp>

#include "logger.hpp"
#include "process_ext.hpp"

namespace otter {
namespace detail::sup {

exit_reason mismatched_arguments() {
  return exit_reason::custom("badarg: start_child arguments do not match the child spec");
}

namespace {

// Requests to a supervisor. Each has a constructor: see docs/gcc12.md.
struct start_child_req {
  explicit start_child_req(child_spec s) : spec(std::move(s)) {}
  child_spec spec;
};
struct start_dynamic_req {
  explicit start_dynamic_req(child_args a) : args(std::move(a)) {}
  child_args args;
};
struct terminate_id_req {
  explicit terminate_id_req(std::string i) : id(std::move(i)) {}
  using reply_type = result<void>;
  std::string id;
};
struct terminate_pid_req {
  explicit terminate_pid_req(pid p) : child(p) {}
  using reply_type = result<void>;
  pid child;
};
struct restart_req {
  explicit restart_req(std::string i) : id(std::move(i)) {}
  std::string id;
};
struct delete_req {
  explicit delete_req(std::string i) : id(std::move(i)) {}
  std::string id;
};
struct which_req {};
struct count_req {};

bool restarts_after(restart_type type, const exit_reason& reason) {
  switch (type) {
  case restart_type::permanent:
    return true;
  case restart_type::temporary:
    return false;
  case restart_type::transient:
    return !(reason.is_normal() || reason.get_kind() == exit_reason::kind::shutdown);
  }
  return false;
}

// While the supervisor starts child `id`, what it spawns linked is that child:
// spawn copies this identity into the new process (lib/spawn.cpp), so that
// the child's crash reports name it, whichever core it runs on.
class starting_child_mark {
public:
  explicit starting_child_mark(const std::string& id) {
    pcb& me = current_process("otter::supervisor");
    ext_ = &ext_of(me);
    ext_->starting_child = std::make_shared<const child_identity>(child_identity{me.self, id});
  }
  // Also when the supervisor is killed meanwhile: its extension outlives its frame.
  ~starting_child_mark() { ext_->starting_child.reset(); }
  starting_child_mark(const starting_child_mark&) = delete;
  starting_child_mark& operator=(const starting_child_mark&) = delete;

private:
  process_ext* ext_;
};

// Runs a spec's start function as the supervisor's child `spec.id()`.
task<result<pid>> start_as_child(const child_spec& spec, child_args& args) {
  const starting_child_mark mark(spec.id());
  co_return co_await spec.start()(args);
}

// A supervisor report from the calling supervisor (registered as `name`, if
// not empty), if the node logs reports.
void report(const std::string& name, supervisor_report::context what, const std::string& id, pid child,
            const exit_reason& reason) {
  if (current_logger() == nullptr) return;
  supervisor_report r;
  r.supervisor = self();
  r.supervisor_name = name;
  r.what = what;
  r.child_id = id;
  r.child = child;
  r.reason = reason;
  post_report(std::move(r));
}

// As OTP: a child's exit is reported if it was abnormal, or if the child was
// permanent (it was not supposed to exit at all).
bool reported(restart_type type, const exit_reason& reason) {
  return type == restart_type::permanent || !(reason.is_normal() || reason.get_kind() == exit_reason::kind::shutdown);
}

// Stops one child the way its spec says, and waits until it is gone.
task<> stop_child(pid child, shutdown_spec how) {
  const ref watch = monitor(child);
  unlink(child);
  // If it died already, its EXIT may be queued: it is ours to drop now.
  co_await receive(when([child](const exit_message& e) { return e.from == child; }, [](exit_message) {}),
                   after(std::chrono::nanoseconds(0), [] {}));
  auto down_of = [watch](std::chrono::nanoseconds wait) {
    return receive(when([watch](const down_message& d) { return d.monitor == watch; }, [](down_message) { return true; }),
                   after(wait, [] { return false; }));
  };
  switch (how.get_kind()) {
  case shutdown_spec::kind::brutal_kill:
    otter::exit(child, exit_reason::kill());
    co_await down_of(gen_server::infinity);
    break;
  case shutdown_spec::kind::timeout:
    otter::exit(child, exit_reason::shutdown());
    if (!co_await down_of(how.timeout())) {
      otter::exit(child, exit_reason::kill()); // too slow: no more waiting
      co_await down_of(gen_server::infinity);
    }
    break;
  case shutdown_spec::kind::infinity:
    otter::exit(child, exit_reason::shutdown());
    co_await down_of(gen_server::infinity);
    break;
  }
}

// Stops many children of one spec at once, as OTP does for a
// simple_one_for_one supervisor: all get the signal together and share one
// shutdown timeout, so n children take one timeout, not n.
task<> stop_together(std::vector<pid> all, shutdown_spec how) {
  std::unordered_map<ref, pid> watching;
  const std::unordered_set<pid> children(all.begin(), all.end());
  watching.reserve(all.size());
  for (pid child : all) {
    watching.emplace(monitor(child), child);
    unlink(child);
  }
  for (;;) { // EXITs of children that died already are ours to drop now
    const bool dropped = co_await receive(
        when([&children](const exit_message& e) { return children.contains(e.from); }, [](exit_message) { return true; }),
        after(std::chrono::nanoseconds(0), [] { return false; }));
    if (!dropped) break;
  }
  const exit_reason first = how.get_kind() == shutdown_spec::kind::brutal_kill ? exit_reason::kill() : exit_reason::shutdown();
  for (pid child : all) otter::exit(child, first);
  // Waits for the DOWNs until `deadline` (none: no limit). The timeouts are
  // computed outside the co_await expressions (see docs/gcc12.md).
  const auto wait_downs = [&watching](std::optional<std::chrono::nanoseconds> deadline) -> task<> {
    while (!watching.empty()) {
      std::chrono::nanoseconds left = gen_server::infinity;
      if (deadline) {
        left = *deadline - monotonic_time();
        if (left <= std::chrono::nanoseconds(0)) co_return;
      }
      auto next = receive(when([&watching](const down_message& d) { return watching.contains(d.monitor); },
                               [&watching](down_message d) {
                                 watching.erase(d.monitor);
                                 return true;
                               }),
                          after(left, [] { return false; }));
      if (!co_await next) co_return;
    }
  };
  std::optional<std::chrono::nanoseconds> deadline;
  if (how.get_kind() == shutdown_spec::kind::timeout) deadline = monotonic_time() + std::chrono::nanoseconds(how.timeout());
  co_await wait_downs(deadline);
  if (watching.empty()) co_return;
  for (const auto& w : watching) otter::exit(w.second, exit_reason::kill()); // too slow: no more waiting
  co_await wait_downs(std::nullopt);
}

} // namespace

/// The supervisor process: a gen_server that traps exits.
class server {
public:
  task<> init(supervisor_flags flags, std::vector<child_spec> specs, std::string name) {
    trap_exit(true);
    flags_ = flags;
    name_ = std::move(name); // for reports: the server registers it only once init is done
    if (flags.strategy == restart_strategy::simple_one_for_one) {
      if (specs.size() != 1)
        otter::exit(exit_reason::custom("bad_start_spec: simple_one_for_one needs exactly one child spec"));
      template_.emplace(std::move(specs.front()));
      co_return;
    }
    for (child_spec& s : specs) {
      for (const child& c : children_)
        if (c.spec.id() == s.id()) otter::exit(exit_reason::custom("bad_start_spec: duplicate child id " + s.id()));
      children_.push_back(child{std::move(s), {}, {}});
    }
    for (child& c : children_) {
      result<pid> r = co_await start(c);
      if (!r) {
        report(name_, supervisor_report::context::start_error, c.spec.id(), {}, r.error());
        co_await stop_all();
        otter::exit(exit_reason::shutdown("failed_to_start_child " + c.spec.id() + ": " + r.error().to_string()));
      }
    }
  }

  task<result<pid>> handle_call(start_child_req req) {
    if (template_) co_return result<pid>(exit_reason::custom("badarg: use start_child with arguments"));
    for (const child& c : children_)
      if (c.spec.id() == req.spec.id())
        co_return result<pid>(exit_reason::custom(c.pid ? "already_started" : "already_present"));
    children_.push_back(child{std::move(req.spec), {}, {}});
    // Start by index: the vector may grow while we wait (it cannot, but be safe).
    const std::size_t i = children_.size() - 1;
    result<pid> r = co_await start(children_[i]);
    if (!r) children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(i));
    co_return r;
  }

  task<result<pid>> handle_call(start_dynamic_req req) {
    if (!template_) co_return result<pid>(exit_reason::custom("badarg: not a simple_one_for_one supervisor"));
    auto args = std::make_shared<child_args>(std::move(req.args));
    result<pid> r = co_await start_as_child(*template_, *args);
    if (r && r.value()) dynamic_.emplace(r.value(), dynamic_child{++started_, std::move(args)});
    co_return r;
  }

  task<result<void>> handle_call(terminate_id_req req) {
    child* c = find(req.id);
    if (c == nullptr) co_return result<void>(exit_reason::custom("not_found"));
    if (c->pid) {
      const pid p = std::exchange(c->pid, pid{});
      co_await stop_child(p, c->spec.shutdown());
    }
    if (c->spec.restart() == restart_type::temporary) erase(req.id);
    co_return result<void>();
  }

  task<result<void>> handle_call(terminate_pid_req req) {
    auto it = dynamic_.find(req.child);
    if (!template_ || it == dynamic_.end()) co_return result<void>(exit_reason::custom("not_found"));
    dynamic_.erase(it);
    co_await stop_child(req.child, template_->shutdown());
    co_return result<void>();
  }

  task<result<pid>> handle_call(restart_req req) {
    child* c = find(req.id);
    if (c == nullptr) co_return result<pid>(exit_reason::custom("not_found"));
    if (c->pid) co_return result<pid>(exit_reason::custom("running"));
    co_return co_await start(*c);
  }

  result<void> handle_call(delete_req req) {
    child* c = find(req.id);
    if (c == nullptr) return exit_reason::custom("not_found");
    if (c->pid) return exit_reason::custom("running");
    erase(req.id);
    return {};
  }

  std::vector<child_info> handle_call(which_req) {
    std::vector<child_info> out;
    for (const child& c : children_) out.push_back({c.spec.id(), c.pid, c.spec.type(), c.spec.restart()});
    if (template_) {
      std::vector<std::pair<std::uint64_t, pid>> by_start;
      for (const auto& [p, d] : dynamic_) by_start.emplace_back(d.sequence, p);
      std::sort(by_start.begin(), by_start.end());
      for (const auto& [seq, p] : by_start) out.push_back({"", p, template_->type(), template_->restart()});
    }
    return out;
  }

  child_counts handle_call(count_req) {
    child_counts n;
    auto count = [&n](const child_spec& s, bool running) {
      ++n.specs;
      if (running) ++n.active;
      if (s.type() == child_type::supervisor)
        ++n.supervisors;
      else
        ++n.workers;
    };
    for (const child& c : children_) count(c.spec, bool(c.pid));
    if (template_)
      for (std::size_t i = 0; i < dynamic_.size(); ++i) count(*template_, true);
    return n;
  }

  task<> handle_info(message m) {
    if (auto* e = m.get_if<exit_message>()) co_await child_exited(e->from, e->reason);
  }

  task<> terminate(exit_reason) { co_await stop_all(); }

private:
  struct child {
    child_spec spec;
    otter::pid pid;
    std::shared_ptr<child_args> args; // unused for static children
  };

  child* find(const std::string& id) {
    for (child& c : children_)
      if (c.spec.id() == id) return &c;
    return nullptr;
  }
  void erase(const std::string& id) {
    children_.erase(std::remove_if(children_.begin(), children_.end(), [&](const child& c) { return c.spec.id() == id; }),
                    children_.end());
  }

  task<result<pid>> start(child& c) {
    child_args none;
    const std::string id = c.spec.id(); // `c` may move if children_ changes while we wait
    result<pid> r = co_await start_as_child(c.spec, none);
    if (child* now = find(id); now != nullptr && r) now->pid = r.value();
    co_return r;
  }

  // Records a restart; false if that makes more than `intensity` within `period`.
  bool allow_restart() {
    const std::chrono::nanoseconds now = monotonic_time();
    restarts_.push_back(now);
    while (!restarts_.empty() && now - restarts_.front() > flags_.period) restarts_.pop_front();
    return static_cast<int>(restarts_.size()) <= flags_.intensity;
  }

  task<> child_exited(pid from, exit_reason reason) {
    if (template_) {
      auto it = dynamic_.find(from);
      if (it == dynamic_.end()) co_return; // not one of ours
      std::shared_ptr<child_args> args = it->second.args;
      dynamic_.erase(it);
      if (reported(template_->restart(), reason))
        report(name_, supervisor_report::context::child_terminated, template_->id(), from, reason);
      if (!restarts_after(template_->restart(), reason)) co_return;
      for (;;) {
        if (!allow_restart()) co_return give_up(template_->id(), from);
        result<pid> r = co_await start_as_child(*template_, *args);
        if (!r) { // a failed restart counts as another restart
          report(name_, supervisor_report::context::start_error, template_->id(), {}, r.error());
          continue;
        }
        if (r.value()) dynamic_.emplace(r.value(), dynamic_child{++started_, args});
        co_return;
      }
    }
    auto it = std::find_if(children_.begin(), children_.end(), [from](const child& c) { return c.pid == from; });
    if (it == children_.end()) co_return; // not one of ours (or already being stopped)
    it->pid = {};
    const std::string id = it->spec.id();
    if (reported(it->spec.restart(), reason))
      report(name_, supervisor_report::context::child_terminated, id, from, reason);
    if (!restarts_after(it->spec.restart(), reason)) {
      if (it->spec.restart() == restart_type::temporary) erase(id);
      co_return;
    }
    for (;;) {
      if (!allow_restart()) co_return give_up(id, from);
      if (co_await restart_from(id)) co_return;
    }
  }

  // Restarts after child `id` exited, by the strategy. False if a start failed
  // (the children it meant to start are stopped again).
  task<bool> restart_from(const std::string& id) {
    std::size_t first = 0;
    for (; first < children_.size() && children_[first].spec.id() != id; ++first) {
    }
    if (first == children_.size()) co_return true; // deleted meanwhile
    std::size_t from = first, to = first + 1;      // one_for_one: just this child
    if (flags_.strategy == restart_strategy::one_for_all) {
      from = 0;
      to = children_.size();
    } else if (flags_.strategy == restart_strategy::rest_for_one) {
      to = children_.size();
    }
    // Stop the others of the group, last started first.
    for (std::size_t i = to; i-- > from;) {
      if (children_[i].pid) co_await stop_child(std::exchange(children_[i].pid, pid{}), children_[i].spec.shutdown());
    }
    // Temporary children of the group are not restarted: drop them.
    std::vector<std::string> group;
    for (std::size_t i = from; i < to; ++i)
      if (i == first || children_[i].spec.restart() != restart_type::temporary) group.push_back(children_[i].spec.id());
    for (std::size_t i = to; i-- > from;)
      if (i != first && children_[i].spec.restart() == restart_type::temporary) children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(i));
    // Start them again in order.
    for (const std::string& g : group) {
      child* c = find(g);
      if (c == nullptr) continue;
      result<pid> r = co_await start(*c);
      if (!r) {
        report(name_, supervisor_report::context::start_error, g, {}, r.error());
        for (auto it = group.rbegin(); it != group.rend(); ++it)
          if (child* s = find(*it); s != nullptr && s->pid) co_await stop_child(std::exchange(s->pid, pid{}), s->spec.shutdown());
        co_return false;
      }
    }
    co_return true;
  }

  // Too many restarts (the last after child `id`, `last` exited): stop
  // everything and exit with `shutdown`.
  void give_up(const std::string& id, pid last) {
    report(name_, supervisor_report::context::shutdown, id, last, exit_reason::custom("reached_max_restart_intensity"));
    gen_server::stop_self(exit_reason::shutdown());
  }

  task<> stop_all() {
    if (template_) {
      std::vector<pid> all;
      for (const auto& [p, d] : dynamic_) all.push_back(p);
      dynamic_.clear();
      co_await stop_together(std::move(all), template_->shutdown());
      co_return;
    }
    for (std::size_t i = children_.size(); i-- > 0;)
      if (children_[i].pid) co_await stop_child(std::exchange(children_[i].pid, pid{}), children_[i].spec.shutdown());
  }

  supervisor_flags flags_;
  std::string name_;
  std::vector<child> children_;
  std::optional<child_spec> template_;
  struct dynamic_child {
    std::uint64_t sequence; // start order, for which_children
    std::shared_ptr<child_args> args;
  };
  std::unordered_map<pid, dynamic_child> dynamic_;
  std::uint64_t started_ = 0;
  std::deque<std::chrono::nanoseconds> restarts_;
};

server_ref<server> as_server(pid sup) { return server_ref<server>(sup); }

} // namespace detail::sup

namespace supervisor {

using detail::sup::as_server;

task<result<pid>> start_link(supervisor_flags flags, std::vector<child_spec> children, std::string name,
                             spawn_options where) {
  gen_server::start_options options;
  options.named(name).placed(where);
  auto r = co_await gen_server::start_link<detail::sup::server>(options, flags, std::move(children), std::move(name));
  if (!r) co_return result<pid>(r.error());
  co_return result<pid>(r->pid());
}

child_spec spec(std::string id, supervisor_flags flags, std::vector<child_spec> children, spawn_options where) {
  return child_spec(
      std::move(id),
      [flags, children = std::move(children), where](child_args&) { return start_link(flags, children, {}, where); },
      child_type::supervisor);
}

task<result<pid>> start_child(pid sup, child_spec spec) {
  detail::sup::start_child_req req(std::move(spec));
  co_return co_await gen_server::call(as_server(sup), std::move(req), gen_server::infinity);
}

task<result<pid>> start_child_with(pid sup, child_args args) {
  detail::sup::start_dynamic_req req(std::move(args));
  co_return co_await gen_server::call(as_server(sup), std::move(req), gen_server::infinity);
}

task<result<void>> terminate_child(pid sup, std::string id) {
  detail::sup::terminate_id_req req(std::move(id));
  co_return co_await gen_server::call(as_server(sup), std::move(req), gen_server::infinity);
}

task<result<void>> terminate_child(pid sup, pid child) {
  detail::sup::terminate_pid_req req(child);
  co_return co_await gen_server::call(as_server(sup), std::move(req), gen_server::infinity);
}

task<result<pid>> restart_child(pid sup, std::string id) {
  detail::sup::restart_req req(std::move(id));
  co_return co_await gen_server::call(as_server(sup), std::move(req), gen_server::infinity);
}

task<result<void>> delete_child(pid sup, std::string id) {
  detail::sup::delete_req req(std::move(id));
  co_return co_await gen_server::call(as_server(sup), std::move(req), gen_server::infinity);
}

task<std::vector<child_info>> which_children(pid sup) {
  co_return co_await gen_server::call(as_server(sup), detail::sup::which_req{}, gen_server::infinity);
}

task<child_counts> count_children(pid sup) {
  co_return co_await gen_server::call(as_server(sup), detail::sup::count_req{}, gen_server::infinity);
}

} // namespace supervisor
} // namespace otter
