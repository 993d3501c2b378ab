#include "logger.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <type_traits>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "node_state.hpp"
#include "scheduler.hpp"

namespace otter {

// ---------------------------------------------------------------- the lines

namespace {

// A report is one line: a newline inside a reason (an exception's what())
// would split it, so control characters are written escaped.
std::string one_line(std::string s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else
      out += c;
  }
  return out;
}

// Lines are built by appending: g++ 12 warns falsely (-Wrestrict) about
// `"literal" + std::string` once it is inlined.
void append_named(std::string& line, pid p, const std::string& name) {
  line += to_string(p);
  if (!name.empty()) {
    line += " (";
    line += name;
    line += ')';
  }
}

} // namespace

std::string crash_report::to_string() const {
  std::string line = "otter: process ";
  append_named(line, process, registered_name);
  line += " crashed: ";
  line += reason.to_string();
  if (supervisor) {
    line += "; child ";
    line += child_id;
    line += " of supervisor ";
    append_named(line, supervisor, supervisor_name);
  }
  return one_line(std::move(line));
}

std::string_view to_string(supervisor_report::context what) noexcept {
  switch (what) {
  case supervisor_report::context::child_terminated:
    return "child_terminated";
  case supervisor_report::context::start_error:
    return "start_error";
  case supervisor_report::context::shutdown:
    return "shutdown";
  }
  return "?";
}

std::string supervisor_report::to_string() const {
  std::string line = "otter: supervisor ";
  append_named(line, supervisor, supervisor_name);
  line += ' ';
  line += otter::to_string(what);
  line += ": child ";
  line += child_id;
  if (child) {
    line += ' ';
    line += otter::to_string(child);
  }
  line += ", reason ";
  line += reason.to_string();
  return one_line(std::move(line));
}

std::string dropped_reports::to_string() const {
  std::string line = "otter: ";
  line += std::to_string(count);
  line += count == 1 ? " log report" : " log reports";
  line += " dropped (the log sink was too slow)";
  return line;
}

std::string node_report::to_string() const {
  const std::string who = node.empty() ? std::string("a node") : "node " + node;
  switch (what) {
  case event::up:
    return "otter: " + who + " up" + (detail.empty() ? std::string() : " (" + detail + ")");
  case event::down:
    return "otter: " + who + " down: " + detail;
  case event::failed:
    return "otter: connecting to " + who + " failed: " + detail;
  case event::refused:
    return "otter: " + who + " refused: " + detail;
  case event::epmd:
    return "otter: " + who + ": " + detail;
  }
  return "otter: " + who;
}

std::string to_string(const log_record& record) {
  return std::visit([](const auto& r) { return r.to_string(); }, record);
}

namespace {

// Writes all of [data, data + size) to `fd`, retrying after EINTR and short
// writes. On a full non-blocking fd it waits in poll, in slices, at most
// `max_waits` times in all (so it never spins and never waits for ever), and
// gives up early once `abandon` is set. Returns how much was written.
std::size_t write_all(int fd, const char* data, std::size_t size, const std::atomic<bool>* abandon) noexcept {
  constexpr int slice_ms = 50;
  constexpr int max_waits = 20; // a second in all
  std::size_t done = 0;
  int waits = 0;
  for (bool first = true; done < size; first = false) {
    // Abandoned while a write or a wait took its time: the fd may mean
    // something else by now.
    if (!first && abandon != nullptr && abandon->load(std::memory_order_relaxed)) break;
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (++waits > max_waits || (abandon != nullptr && abandon->load(std::memory_order_relaxed))) break;
      pollfd p{fd, POLLOUT, 0};
      (void)::poll(&p, 1, slice_ms); // EINTR or not, the loop tries again
      continue;
    }
    break; // EPIPE, EBADF, ...: this line is lost
  }
  return done;
}

} // namespace

void write_to_stderr(const log_record& record) noexcept {
  try {
    const std::string line = to_string(record) + "\n";
    (void)write_all(STDERR_FILENO, line.data(), line.size(), nullptr);
  } catch (...) {
    // Out of memory for the line: nothing to write it with.
  }
}

// ---------------------------------------------------------------- the queue

namespace detail {

namespace {

struct entry {
  entry* next = nullptr;
  std::size_t bytes = 0;
  log_record record;
};

std::size_t reason_bytes(const exit_reason& r) noexcept { return r.detail().size() + r.error_type().size(); }

// What a queued record holds, roughly: the entry and its strings.
std::size_t bytes_of(const log_record& record) noexcept {
  return sizeof(entry) + std::visit(
                             [](const auto& r) -> std::size_t {
                               using R = std::decay_t<decltype(r)>;
                               if constexpr (std::is_same_v<R, crash_report>)
                                 return r.registered_name.size() + r.supervisor_name.size() + r.child_id.size() +
                                        reason_bytes(r.reason);
                               else if constexpr (std::is_same_v<R, supervisor_report>)
                                 return r.supervisor_name.size() + r.child_id.size() + reason_bytes(r.reason);
                               else if constexpr (std::is_same_v<R, node_report>)
                                 return r.node.size() + r.detail.size();
                               else
                                 return 0;
                             },
                             record);
}

} // namespace

struct logger::state {
  explicit state(log_options o) : options(std::move(o)) {}
  ~state() { // whatever was left when the thread gave up
    entry* e = top.load(std::memory_order_acquire);
    while (e != nullptr) delete std::exchange(e, e->next);
  }

  const log_options options;

  // Producers push with one CAS (a Treiber stack, as a scheduler's inbox); the
  // thread takes everything with one exchange and reverses it: records come
  // out in the order they went in.
  alignas(64) std::atomic<entry*> top{nullptr};
  // Queued and not yet written; a producer reserves before it allocates.
  std::atomic<std::size_t> records{0};
  std::atomic<std::size_t> bytes{0};
  std::atomic<std::uint64_t> dropped{0};

  // The thread sleeps on `wakeups`. It stores `sleeping` and then looks at the
  // queue; a producer pushes and then looks at `sleeping`. Both seq_cst, so one
  // of the two sees the other: no wake-up is lost, and while the thread is busy
  // a producer makes no system call.
  alignas(64) std::atomic<bool> sleeping{false};
  std::atomic<std::uint32_t> wakeups{0};
  std::atomic<bool> stopping{false};
  std::atomic<bool> abandoned{false};

  std::mutex done_mutex;
  std::condition_variable done_changed;
  bool done = false;

  void wake() noexcept {
    if (!sleeping.load(std::memory_order_seq_cst)) return;
    if (!sleeping.exchange(false, std::memory_order_seq_cst)) return;
    wakeups.fetch_add(1, std::memory_order_seq_cst);
    wakeups.notify_one();
  }

  void release(std::size_t n, std::size_t b) noexcept {
    records.fetch_sub(n, std::memory_order_relaxed);
    bytes.fetch_sub(b, std::memory_order_relaxed);
  }

  entry* take_all() noexcept {
    entry* e = top.exchange(nullptr, std::memory_order_acquire);
    entry* fifo = nullptr;
    while (e != nullptr) {
      entry* next = e->next;
      e->next = fifo;
      fifo = e;
      e = next;
    }
    return fifo;
  }

  // The default sink: the whole batch in one write. Lines that could not be
  // written are counted as dropped.
  void write_batch_to_stderr(entry* batch) {
    std::string text;
    std::size_t n = 0, b = 0;
    for (entry* e = batch; e != nullptr; e = e->next) {
      try {
        text += to_string(e->record);
        text += '\n';
      } catch (...) {
        dropped.fetch_add(1, std::memory_order_relaxed);
      }
      ++n;
      b += e->bytes;
    }
    while (batch != nullptr) delete std::exchange(batch, batch->next);
    const std::size_t written = write_all(STDERR_FILENO, text.data(), text.size(), &abandoned);
    if (written < text.size()) {
      std::uint64_t lost = 0;
      for (std::size_t i = written; i < text.size(); ++i) lost += text[i] == '\n';
      dropped.fetch_add(lost, std::memory_order_relaxed);
    }
    release(n, b);
  }

  // A user's sink: one call per record, each released once its call returns.
  void write_batch_to_sink(entry* batch) {
    while (batch != nullptr) {
      entry* e = std::exchange(batch, batch->next);
      if (!abandoned.load(std::memory_order_acquire)) {
        try {
          options.sink(e->record);
        } catch (...) {
          // A failing sink must not end the logger.
        }
      }
      release(1, e->bytes);
      delete e;
    }
  }

  void write_batch(entry* batch) {
    if (options.sink)
      write_batch_to_sink(batch);
    else
      write_batch_to_stderr(batch);
  }

  // The line saying how many were dropped. If it cannot be written it is not
  // counted again: a sink that always fails must not keep the thread busy.
  void write_dropped(std::uint64_t count) {
    if (abandoned.load(std::memory_order_acquire)) return;
    const log_record r = dropped_reports{count};
    if (options.sink) {
      try {
        options.sink(r);
      } catch (...) {
      }
    } else {
      const std::string line = to_string(r) + "\n";
      (void)write_all(STDERR_FILENO, line.data(), line.size(), &abandoned);
    }
  }

  void run() {
    // Drops are told once the sink has caught up (the queue is found empty),
    // in one line, after the records that were queued when they happened;
    // under a sustained flood, at least once a second.
    std::uint64_t lost = 0;
    std::chrono::steady_clock::time_point lost_since;
    for (;;) {
      if (const std::uint64_t more = dropped.exchange(0, std::memory_order_acq_rel); more != 0) {
        if (lost == 0) lost_since = std::chrono::steady_clock::now();
        lost += more;
      }
      entry* batch = take_all();
      if (batch != nullptr) write_batch(batch);
      if (lost != 0 && (batch == nullptr || std::chrono::steady_clock::now() - lost_since >= std::chrono::seconds(1))) {
        write_dropped(lost);
        lost = 0;
      }
      if (abandoned.load(std::memory_order_acquire)) break;
      if (batch != nullptr || dropped.load(std::memory_order_acquire) != 0) continue;
      if (stopping.load(std::memory_order_acquire)) break; // and nothing is left
      const std::uint32_t seen = wakeups.load(std::memory_order_seq_cst);
      sleeping.store(true, std::memory_order_seq_cst);
      if (top.load(std::memory_order_seq_cst) == nullptr && dropped.load(std::memory_order_seq_cst) == 0 &&
          !stopping.load(std::memory_order_seq_cst))
        wakeups.wait(seen, std::memory_order_seq_cst);
      sleeping.store(false, std::memory_order_relaxed);
    }
    std::lock_guard lock(done_mutex);
    done = true;
    done_changed.notify_all();
  }
};

logger::logger(log_options options) : state_(std::make_shared<state>(std::move(options))) {
  sigset_t all, saved;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &saved); // the new thread inherits this mask
  try {
    thread_ = std::thread([st = state_] {
      (void)::pthread_setname_np(::pthread_self(), "otter-log");
      st->run();
    });
  } catch (...) {
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    throw;
  }
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
}

logger::~logger() {
  state& st = *state_;
  st.stopping.store(true, std::memory_order_seq_cst);
  st.wake(); // it sees `stopping` before it sleeps, or is woken
  bool finished;
  {
    std::unique_lock lock(st.done_mutex);
    finished = st.done_changed.wait_for(lock, st.options.flush_timeout, [&] { return st.done; });
  }
  if (finished) {
    thread_.join();
    return;
  }
  // The sink is stuck: drop what is left and do not wait for it. The thread
  // keeps the state alive and ends once the sink returns.
  st.abandoned.store(true, std::memory_order_release);
  thread_.detach();
}

void logger::post(log_record&& record) noexcept {
  state& st = *state_;
  const std::size_t b = bytes_of(record);
  const std::size_t n = st.records.fetch_add(1, std::memory_order_relaxed);
  const std::size_t q = st.bytes.fetch_add(b, std::memory_order_relaxed);
  entry* e = nullptr;
  if (n < st.options.max_queued_records && q + b <= st.options.max_queued_bytes) {
    try {
      e = new entry{nullptr, b, std::move(record)};
    } catch (...) {
    }
  }
  if (e == nullptr) {
    st.release(1, b);
    st.dropped.fetch_add(1, std::memory_order_seq_cst);
    st.wake(); // the queue may be empty (a record larger than the bound)
    return;
  }
  entry* top = st.top.load(std::memory_order_relaxed);
  do {
    e->next = top;
  } while (!st.top.compare_exchange_weak(top, e, std::memory_order_seq_cst, std::memory_order_relaxed));
  st.wake();
}

logger* current_logger() noexcept {
  scheduler* s = tl_scheduler;
  return s != nullptr ? s->node().log.get() : nullptr;
}

void post_report(supervisor_report&& report) noexcept {
  if (logger* l = current_logger()) l->post(std::move(report));
}

} // namespace detail
} // namespace otter
