#include <otter/node.hpp>

#include <otter/errors.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <chrono>
#include <condition_variable>
#include <latch>
#include <memory>
#include <mutex>
#include <stdexcept>

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "dist/runtime.hpp"
#include "node_state.hpp"
#include "process_ext.hpp"
#include "scheduler.hpp"
#include "signals.hpp"
#include "uring/ops.hpp"

namespace otter {

namespace {

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  // Pinning is a performance matter; a refusal (a restricted cpuset) is not fatal.
  (void)::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
}

// Kills every process on every core, until a round finds none left: a dying
// process's destructors may still spawn or send elsewhere. Gives up when the
// node stops meanwhile (a ring failed): the stopped schedulers kill their own
// and never run the round, so it is shared with them rather than on this stack.
void kill_everything(detail::node_state& st) {
  struct round {
    std::mutex m;
    std::condition_variable cv;
    std::size_t pending;
    std::size_t killed = 0;
    explicit round(std::size_t n) : pending(n) {}
  };
  for (int attempt = 0; attempt < 1000 && !st.stopping.load(); ++attempt) {
    auto r = std::make_shared<round>(st.size());
    for (auto& s : st.schedulers) {
      s->run_soon(
          [](detail::scheduler& sched, void* arg) {
            const std::unique_ptr<std::shared_ptr<round>> rr(static_cast<std::shared_ptr<round>*>(arg));
            const std::size_t n = sched.kill_all();
            std::lock_guard lock((*rr)->m);
            (*rr)->killed += n;
            --(*rr)->pending;
            (*rr)->cv.notify_all();
          },
          new std::shared_ptr<round>(r));
    }
    std::unique_lock lock(r->m);
    while (!r->cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return r->pending == 0; }))
      if (st.stopping.load()) return;
    if (r->killed == 0) return;
  }
}

// A stop request: the first process gets `shutdown`, or `kill` the second time.
void stop_root(detail::scheduler& s, detail::node_state& st) {
  const pid root = pid::from_bits(st.root_pid.load());
  if (!root) return;
  const int n = st.stop_requests.fetch_add(1) + 1;
  detail::send_signal(s, {detail::signal::kind::exit, pid{}, root, {},
                          n == 1 ? exit_reason::shutdown() : exit_reason::kill()});
}

void watch_signals(detail::scheduler& s, void* arg) {
  auto* st = static_cast<detail::node_state*>(arg);
  detail::uring::prep_read(s.ring(), st->signal_fd, st->signal_read.info, sizeof(signalfd_siginfo), 0,
                           &st->signal_read);
}

void on_signal(detail::uring::completion* c, int result, std::uint32_t) noexcept {
  auto* st = static_cast<detail::node_state::signal_watch*>(c)->node;
  if (result == -ECANCELED || st->stopping.load()) return;
  detail::scheduler& s = *st->schedulers[0];
  try {
    if (result > 0) stop_root(s, *st);
    watch_signals(s, st); // keep listening
  } catch (...) {
  }
}

// min(1 GiB, a quarter of the RAM).
std::size_t default_connection_budget() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  const std::size_t gib = std::size_t{1} << 30;
  if (pages <= 0 || page <= 0) return gib;
  return std::min(gib, static_cast<std::size_t>(pages) / 4 * static_cast<std::size_t>(page));
}

sigset_t stop_signal_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

} // namespace

void detail::node_state::fail(std::exception_ptr e) noexcept {
  {
    std::lock_guard lock(root_mutex);
    if (!failure) failure = std::move(e);
    root_exited.notify_all();
  }
  stopping.store(true, std::memory_order_release);
  for (auto& s : schedulers) s->interrupt();
}

node::node(node_options options) {
  const std::vector<int> cpus = allowed_cpus();
  unsigned n = options.schedulers != 0 ? options.schedulers : static_cast<unsigned>(cpus.size());
  // Scheduler byte 0xfe marks a remote pid (otter/dist/node_table.hpp).
  if (n > 254) throw std::invalid_argument("otter::node: at most 254 schedulers");
  if (options.virtual_time && n != 1)
    throw std::invalid_argument("otter::node: virtual_time needs exactly one scheduler");
  options.schedulers = n;
  const bool pin = options.pin_threads;
  const bool signals = options.stop_on_signals;
  state_ = std::make_unique<detail::node_state>(std::move(options));
  detail::node_state& st = *state_;
  st.connection_bytes = std::make_unique<detail::connection_counter[]>(n);
  st.connection_budget = st.options.connection_memory != 0 ? st.options.connection_memory : default_connection_budget();
  if (st.options.log.reports) st.log = std::make_unique<detail::logger>(st.options.log);
  for (unsigned i = 0; i < n; ++i) st.schedulers.push_back(std::make_unique<detail::scheduler>(st, i));

  if (signals) {
    // Blocked here, and so in the scheduler threads, which inherit the mask:
    // the signals are read from a signalfd instead of interrupting anyone.
    const sigset_t set = stop_signal_set();
    ::pthread_sigmask(SIG_BLOCK, &set, &saved_mask_);
    st.signal_fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (st.signal_fd < 0) {
      ::pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
      throw runtime_unavailable(errno, "otter::node: signalfd failed");
    }
    st.signal_read.node = &st;
    st.signal_read.complete = &on_signal;
  }

  std::latch started(n);
  std::mutex error_mutex;
  std::exception_ptr first_error;
  const std::function<void(std::exception_ptr)> on_started = [&](std::exception_ptr e) {
    if (e) {
      std::lock_guard lock(error_mutex);
      if (!first_error) first_error = e;
    }
    started.count_down();
  };
  for (unsigned i = 0; i < n; ++i) {
    st.threads.emplace_back([&st, &on_started, i, pin, cpu = cpus[i % cpus.size()]] {
      if (pin) pin_to(cpu);
      const std::string name = "otter-" + std::to_string(i);
      (void)::pthread_setname_np(::pthread_self(), name.c_str());
      st.schedulers[i]->thread_main(on_started);
    });
  }
  started.wait();
  if (first_error) {
    st.stopping.store(true);
    for (auto& s : st.schedulers) s->interrupt();
    for (auto& t : st.threads) t.join();
    if (signals) {
      ::close(st.signal_fd);
      ::pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
    }
    std::rethrow_exception(first_error);
  }
  if (signals) st.schedulers[0]->run_soon(&watch_signals, &st);
}

node::~node() {
  detail::node_state& st = *state_;
  // After a failure the schedulers have stopped and killed their processes themselves.
  if (!st.failed()) kill_everything(st);
  // Blocking work still queued comes back unrun; running work is waited for.
  // Both return to schedulers that still run, which free it (its processes are gone).
  st.blocking().shutdown();
  st.stopping.store(true);
  for (auto& s : st.schedulers) s->interrupt();
  for (auto& t : st.threads) t.join();
  st.log.reset(); // writes what is queued, within log.flush_timeout
  if (st.signal_fd >= 0) {
    ::close(st.signal_fd);
    ::pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
  }
}

int node::run_prepared(detail::prepared_process&& prepared) {
  detail::node_state& st = *state_;
  {
    std::lock_guard lock(st.root_mutex);
    // A ring failed earlier: the schedulers are gone. Free the unstarted
    // process (its frame first: it may refer to what it owns).
    if (st.failure) {
      { const process unstarted(std::move(prepared.body)); }
      if (prepared.owned != nullptr) prepared.owned_delete(prepared.owned);
      std::rethrow_exception(st.failure);
    }
    st.root_done = false;
  }
  st.stop_requests.store(0);
  try {
    dist::detail::start(st); // before the first process: it may send to other nodes at once
  } catch (...) {
    kill_everything(st); // what distribution had started
    st.dist.reset();
    { const process unstarted(std::move(prepared.body)); }
    if (prepared.owned != nullptr) prepared.owned_delete(prepared.owned);
    throw;
  }
  process::promise_type& p = prepared.body.release().promise();
  p.flags |= detail::pcb_flag::root;
  if (prepared.owned != nullptr) {
    detail::process_ext& ext = detail::ext_of(p);
    ext.owned = prepared.owned;
    ext.owned_delete = prepared.owned_delete;
  }
  st.root_pid.store(st.schedulers[0]->reserve(p).bits());
  st.schedulers[0]->adopt(p);
  {
    std::unique_lock lock(st.root_mutex);
    st.root_exited.wait(lock, [&] { return st.root_done || st.failure; });
    if (st.failure) {
      st.root_pid.store(0);
      dist::detail::stop(st);
      std::rethrow_exception(st.failure);
    }
  }
  st.root_pid.store(0);
  kill_everything(st);
  dist::detail::stop(st);
  if (st.root_reason.is_normal()) return 0;
  // Stopped by request, and it stopped the way it was asked to.
  if (st.stop_requests.load() > 0 && st.root_reason == exit_reason::shutdown()) return 0;
  return 1;
}

void node::request_stop() {
  detail::node_state& st = *state_;
  st.schedulers[0]->run_soon([](detail::scheduler& s, void*) { stop_root(s, s.node()); }, nullptr);
}

void node::send_envelope(pid to, detail::envelope* e) {
  detail::node_state& st = *state_;
  detail::scheduler* here = detail::tl_scheduler;
  if (here != nullptr && &here->node() == &st) {
    // On one of this node's threads: the ordinary path, which keeps the order
    // with what the running process sends.
    here->deliver(to, e);
    return;
  }
  if (to.is_remote()) {
    dist::detail::send_from_outside(st, to, e); // through a scheduler to the peer's node process
    return;
  }
  const unsigned target = to.scheduler();
  if (!to || target >= st.size()) {
    detail::destroy(e);
    return;
  }
  // Straight into the target's inbox: one thread's pushes come out in order.
  e->to = to.bits();
  st.schedulers[target]->push(e, e);
}

const exit_reason& node::last_exit_reason() const noexcept { return state_->root_reason; }

unsigned node::schedulers() const noexcept { return state_->size(); }

pid node::whereis(std::string_view name) const { return state_->names.find(name); }

int this_scheduler() noexcept {
  return detail::tl_scheduler != nullptr ? static_cast<int>(detail::tl_scheduler->index()) : -1;
}

int scheduler_count() noexcept {
  return detail::tl_scheduler != nullptr ? static_cast<int>(detail::tl_scheduler->node().size()) : 0;
}

} // namespace otter
