#include <otter/net/tcp.hpp>

#include <atomic>
#include <cerrno>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <otter/detail/runtime.hpp>
#include <otter/process.hpp>
#include <otter/send.hpp>

#include "../io_op.hpp"
#include "../uring/ops.hpp"
#include "memory_budget.hpp"
#include "socket_state.hpp"

namespace otter::net {
namespace detail {

namespace uring = otter::detail::uring;
using otter::detail::tl_scheduler;

namespace {
std::atomic<std::uint64_t> next_socket_id{1};

std::error_code last_error() noexcept { return {errno, std::system_category()}; }
} // namespace

std::error_code apply_options(int fd, const socket_options& o) noexcept {
  const int on = 1;
  if (o.nodelay && ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0) return last_error();
  if (o.keepalive && ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0) return last_error();
  if (o.receive_buffer > 0 &&
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o.receive_buffer, sizeof o.receive_buffer) != 0)
    return last_error();
  if (o.send_buffer > 0 && ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o.send_buffer, sizeof o.send_buffer) != 0)
    return last_error();
  return {};
}

// ---------------------------------------------------------------- operations

// A send: the piece in flight is a copy of at most send_limit bytes; the rest
// is copied from the caller's buffer (alive while the caller awaits, which is
// while the op is not abandoned) as the kernel takes each piece.
struct send_op final : otter::detail::io_op {
  socket_state* state = nullptr;
  std::string data;          // the piece in flight
  std::size_t sent = 0;      // of `data`
  const char* rest = nullptr; // the caller's bytes not copied yet
  std::size_t rest_size = 0;
  std::size_t total = 0;
  ~send_op() override {
    if (state == nullptr) return;
    if (state->sending == this) state->sending = nullptr;
    state->count(-static_cast<std::int64_t>(data.size()));
    state->release();
  }
  void take_next() {
    const std::size_t n = std::min(rest_size, state->limits.send_limit);
    const auto before = static_cast<std::int64_t>(data.size());
    data.assign(rest, n);
    state->count(static_cast<std::int64_t>(n) - before);
    rest += n;
    rest_size -= n;
    sent = 0;
  }
  void prepare(uring::ring& r) override {
    uring::prep_send(r, state->fd, data.data() + sent, data.size() - sent, this);
  }
  // The kernel may take part of the data: send the rest.
  bool again(int result, std::uint32_t) override {
    sent += static_cast<std::size_t>(result);
    if (result > 0) state->progress();
    if (sent >= data.size()) {
      if (rest_size == 0) return false;
      take_next();
    }
    prepare(home->ring());
    return true;
  }
};

// ---------------------------------------------------------------- socket_state

socket_state::socket_state(int f, const socket_options& options) noexcept
    : fd(f), id(next_socket_id.fetch_add(1, std::memory_order_relaxed)), limits(options) {
  reader.state = this;
  reader.complete = &on_receive;
  idle.state = this;
  idle.fire = &on_idle;
}

bool socket_state::adopt_current() {
  scheduler* here = tl_scheduler;
  if (home == here) return true;
  if (armed) return false; // still read by another core: it must be handed over first
  // Moved without give_away while listed on its old core: that core's list
  // keeps it (it may not be touched from here); it is just not budgeted here.
  const bool was_listed = listed;
  home = here;
  if (here != nullptr && open && !was_listed) {
    list_socket(*this);
    arm_idle();
  }
  return true;
}

bool socket_state::wants_data() const noexcept {
  return open && !eof && !error && (active != 0 || waiter != nullptr || reading) &&
         inbuf.size() < limits.receive_limit;
}

void socket_state::count(std::int64_t delta) noexcept {
  held += delta;
  count_bytes(delta);
}

void socket_state::recount_inbuf() noexcept {
  const std::size_t now = inbuf.size();
  if (now == counted_inbuf) return;
  count(static_cast<std::int64_t>(now) - static_cast<std::int64_t>(counted_inbuf));
  counted_inbuf = now;
}

void socket_state::progress() noexcept {
  if (idle_timeout != std::chrono::nanoseconds::max() && home != nullptr) last_progress_ns = home->now_ns();
}

void socket_state::arm_idle() noexcept {
  if (idle_timeout == std::chrono::nanoseconds::max() || home == nullptr || home != tl_scheduler || idle.armed() ||
      !open || broken)
    return;
  last_progress_ns = home->now_ns();
  try {
    home->arm(&idle, idle_timeout);
  } catch (...) {
  }
}

void socket_state::disarm_idle() noexcept {
  if (idle.armed() && home != nullptr && home == tl_scheduler) home->disarm(&idle);
}

void socket_state::on_idle(otter::detail::timer_node* t) noexcept {
  socket_state* s = static_cast<idle_timer*>(t)->state;
  if (!s->open || s->broken) return;
  const std::uint64_t quiet = s->home->now_ns() - s->last_progress_ns;
  const auto limit = static_cast<std::uint64_t>(s->idle_timeout.count());
  if (quiet >= limit) {
    s->fail(std::make_error_code(std::errc::timed_out));
    return;
  }
  try {
    s->home->arm(&s->idle, std::chrono::nanoseconds(limit - quiet)); // it moved meanwhile: wait the rest
  } catch (...) {
  }
}

void socket_state::fail(std::error_code why, bool shut) noexcept {
  if (broken || !open) return;
  broken = why;
  error = why;
  error_reported = false;
  std::string().swap(inbuf); // what was not read is lost with the connection
  recount_inbuf();
  if (shut) (void)::shutdown(fd, SHUT_RDWR);
  disarm_idle();
  stop_reading();
  if (sending != nullptr && !sending->done) uring::prep_cancel(sending->home->ring(), sending);
  try {
    deliver_active();
  } catch (...) {
  }
  wake_waiter();
}

void socket_state::leave_home() noexcept {
  disarm_idle();
  unlist_socket(*this);
  reading = false;
}

void socket_state::arm() {
  if (armed || !wants_data()) return;
  // One buffer per request, re-armed while under the limit: a multishot
  // receive would fill up to 32 buffers in a row before the socket could stop
  // it, overshooting receive_limit by half a megabyte.
  uring::prep_recv_select(home->ring(), fd, home->buffers().group(), &reader);
  ++home->ring().in_flight();
  armed = true;
  cancelling = false;
  ++refs; // the kernel holds it until the request ends
}

void socket_state::stop_reading() {
  if (!armed || cancelling) return;
  uring::prep_cancel(home->ring(), &reader);
  cancelling = true;
}

void socket_state::deliver_active() {
  while (active != 0 && owner) {
    if (!inbuf.empty()) {
      otter::send(owner, tcp_data{id, std::exchange(inbuf, std::string())});
      if (active > 0) --active;
    } else if (eof && !eof_reported) {
      eof_reported = true;
      otter::send(owner, tcp_closed{id});
    } else if (error && !error_reported) {
      error_reported = true;
      otter::send(owner, tcp_error{id, error});
    } else {
      break;
    }
  }
}

void socket_state::wake_waiter() noexcept {
  if (waiter == nullptr) return;
  pcb* p = std::exchange(waiter, nullptr);
  home->make_ready(*p);
}

void socket_state::on_receive(uring::completion* c, int result, std::uint32_t flags) noexcept {
  socket_state* s = static_cast<reader_completion*>(c)->state;
  if ((flags & uring::cqe_buffer) != 0) {
    const unsigned id = flags >> uring::cqe_buffer_shift;
    if (result > 0) {
      try {
        s->inbuf.append(s->home->buffers().data(id), static_cast<std::size_t>(result));
      } catch (...) {
        s->error = std::make_error_code(std::errc::not_enough_memory);
      }
    }
    s->home->buffers().recycle(id);
  }
  if (result > 0) s->progress();
  if (result == 0)
    s->eof = true;
  else if (result < 0 && result != -ENOBUFS && result != -ECANCELED)
    s->error = kernel_error(result);
  const bool ended = (flags & uring::cqe_more) == 0;
  if (ended) {
    s->armed = false;
    s->cancelling = false;
    --s->home->ring().in_flight();
  }
  if (s->open) {
    s->recount_inbuf();
    try {
      s->deliver_active();
    } catch (...) {
    }
    s->recount_inbuf();
    s->wake_waiter();
    if (ended)
      try {
        s->arm(); // if still wanted: under receive_limit, and someone reads
      } catch (...) {
      }
    if (s->inbuf.size() >= s->limits.receive_limit) s->stop_reading(); // flow control
    check_budget();
  }
  if (ended) s->release();
}

void socket_state::release() noexcept {
  if (--refs > 0) return;
  count_bytes(-held);
  ::close(fd);
  delete this;
}

void socket_state::close_handle() noexcept {
  scheduler* here = tl_scheduler;
  if (home != nullptr && home != here && (armed || listed || idle.armed())) {
    // Read by another core's ring: close it there.
    try {
      home->run_soon([](scheduler&, void* arg) { static_cast<socket_state*>(arg)->close_handle(); }, this);
      return;
    } catch (...) {
    }
  }
  open = false;
  waiter = nullptr;
  disarm_idle();
  unlist_socket(*this);
  std::string().swap(inbuf);
  recount_inbuf();
  count(-charged);
  charged = 0;
  stop_reading();
  release();
}

// ---------------------------------------------------------------- listener_state

listener_state::listener_state(int f, socket_options opts) noexcept : fd(f), accepted(opts) {
  acceptor.state = this;
  acceptor.complete = &on_accept;
}

void listener_state::arm() {
  if (armed || !open) return;
  uring::prep_accept_multishot(home->ring(), fd, &acceptor);
  ++home->ring().in_flight();
  armed = true;
  cancelling = false;
  ++refs;
}

void listener_state::on_accept(uring::completion* c, int result, std::uint32_t flags) noexcept {
  listener_state* l = static_cast<acceptor_completion*>(c)->state;
  if (result >= 0) {
    if (l->open && refusing_connections()) {
      // Near the connection memory budget: a new connection would only add to it.
      report(connection_report::action::refused, result, 0, counted_total());
      ::close(result);
    } else if (l->open) {
      apply_options(result, l->accepted);
      try {
        l->ready.push_back(result);
      } catch (...) {
        ::close(result);
      }
    } else {
      ::close(result);
    }
  } else if (result != -ECANCELED) {
    l->error = kernel_error(result); // emfile and the like: for the next accept
  }
  const bool ended = (flags & uring::cqe_more) == 0;
  if (ended) {
    l->armed = false;
    l->cancelling = false;
    --l->home->ring().in_flight();
  }
  if (l->waiter != nullptr) {
    pcb* p = std::exchange(l->waiter, nullptr);
    l->home->make_ready(*p);
  }
  // Don't accept without bound while nobody takes the connections.
  if (l->ready.size() >= 128 && l->armed && !l->cancelling) {
    uring::prep_cancel(l->home->ring(), &l->acceptor);
    l->cancelling = true;
  }
  if (ended) l->release();
}

void listener_state::release() noexcept {
  if (--refs > 0) return;
  for (int f : ready) ::close(f);
  ::close(fd);
  delete this;
}

void listener_state::close_handle() noexcept {
  open = false;
  waiter = nullptr;
  // Stop listening now, not when the kernel has cancelled the accept: a new
  // listener on the port (SO_REUSEPORT) must not share connections with this one.
  (void)::shutdown(fd, SHUT_RDWR);
  if (armed && !cancelling) {
    uring::prep_cancel(home->ring(), &acceptor);
    cancelling = true;
  }
  release();
}

// ---------------------------------------------------------------- operations

struct connect_op final : otter::detail::io_op {
  int fd = -1;
  address to;
  socket_options options;
  ~connect_op() override {
    if (fd >= 0) ::close(fd);
  }
  void prepare(uring::ring& r) override { uring::prep_connect(r, fd, to.data(), to.size(), this); }
};

} // namespace detail

// ---------------------------------------------------------------- tcp_socket

tcp_socket& tcp_socket::operator=(tcp_socket&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

tcp_socket::~tcp_socket() { close(); }

void tcp_socket::close() noexcept {
  if (state_ != nullptr) std::exchange(state_, nullptr)->close_handle();
}

connect_awaiter tcp_socket::connect(const address& to, std::chrono::nanoseconds timeout, socket_options options) {
  auto* op = new detail::connect_op;
  op->to = to;
  op->options = options;
  op->fd = ::socket(to.family() == AF_UNSPEC ? AF_INET : to.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (op->fd < 0) {
    op->result = -errno;
    op->failed_to_start = true;
  } else if (std::error_code ec = detail::apply_options(op->fd, options)) {
    op->result = -ec.value();
    op->failed_to_start = true;
  } else {
    op->start();
  }
  return connect_awaiter(op, timeout);
}

io_result<tcp_socket> connect_awaiter::await_resume() {
  auto* op = static_cast<detail::connect_op*>(this->op());
  const int r = result();
  if (r < 0) return kernel_error(r);
  auto* s = new detail::socket_state(std::exchange(op->fd, -1), op->options);
  return tcp_socket(s);
}

send_awaiter tcp_socket::send(std::string_view data, std::chrono::nanoseconds timeout) {
  auto* op = new detail::send_op;
  if (state_ == nullptr) {
    op->result = -EBADF;
    op->failed_to_start = true;
    return send_awaiter(op, timeout);
  }
  detail::socket_state& s = *state_;
  (void)s.adopt_current();
  op->state = state_;
  ++s.refs; // the fd stays open while the kernel may still use it
  if (timeout == otter::wait_forever) timeout = s.limits.send_timeout;
  op->total = data.size();
  if (s.broken) {
    op->result = -ECONNABORTED; // await_resume reports s.broken
    op->failed_to_start = true;
  } else if (data.empty()) {
    op->result = 0;
    op->failed_to_start = true; // nothing to do: complete at once
  } else {
    op->rest = data.data();
    op->rest_size = data.size();
    try {
      op->take_next();
    } catch (...) {
      delete op;
      throw;
    }
    s.sending = op;
    op->start();
    detail::check_budget();
  }
  return send_awaiter(op, timeout);
}

io_result<std::size_t> send_awaiter::await_resume() {
  auto* op = static_cast<detail::send_op*>(this->op());
  const int r = result();
  if (r < 0) {
    detail::socket_state* s = op->state;
    if (s != nullptr && s->broken) return s->broken;
    if (r == -ETIMEDOUT) {
      // Part of the data may have gone: the stream cannot go on.
      if (s != nullptr) s->fail(std::make_error_code(std::errc::timed_out), false);
      return std::make_error_code(std::errc::timed_out);
    }
    return kernel_error(r);
  }
  return op->total;
}

recv_awaiter tcp_socket::recv(std::span<char> into, std::chrono::nanoseconds timeout) {
  return recv_awaiter(state_, into, false, timeout);
}

recv_string_awaiter tcp_socket::recv(std::chrono::nanoseconds timeout) {
  return recv_string_awaiter(state_, {}, true, timeout);
}

void tcp_socket::set_active(active_mode mode) {
  if (state_ == nullptr) return;
  detail::socket_state& s = *state_;
  if (!s.adopt_current()) return;
  s.owner = otter::self();
  s.active = mode.count();
  s.deliver_active(); // what is buffered already
  s.arm();
}

io_result<void> tcp_socket::set_options(const socket_options& options) {
  if (state_ == nullptr) return std::make_error_code(std::errc::bad_file_descriptor);
  if (std::error_code ec = detail::apply_options(state_->fd, options)) return ec;
  detail::socket_state& s = *state_;
  s.limits = detail::socket_limits(options);
  if (s.home != nullptr && s.home == otter::detail::tl_scheduler) {
    if (s.inbuf.size() >= s.limits.receive_limit)
      s.stop_reading();
    else
      s.arm(); // the limit may have grown
  }
  return {};
}

void tcp_socket::set_idle_timeout(std::chrono::nanoseconds timeout) {
  if (state_ == nullptr) return;
  detail::socket_state& s = *state_;
  if (!s.adopt_current()) return;
  s.disarm_idle();
  s.idle_timeout = timeout > std::chrono::nanoseconds::zero() ? timeout : std::chrono::nanoseconds::max();
  s.arm_idle();
}

void tcp_socket::charge(std::ptrdiff_t bytes) noexcept {
  if (state_ == nullptr) return;
  detail::socket_state& s = *state_;
  (void)s.adopt_current();
  // Giving back more than was charged gives back what was charged.
  const std::int64_t delta = std::max<std::int64_t>(bytes, -s.charged);
  s.charged += delta;
  s.count(delta);
  if (delta > 0) detail::check_budget();
}

std::size_t tcp_socket::memory() const noexcept {
  return state_ != nullptr && state_->held > 0 ? static_cast<std::size_t>(state_->held) : 0;
}

io_result<void> tcp_socket::shutdown(int how) {
  if (state_ == nullptr) return std::make_error_code(std::errc::bad_file_descriptor);
  if (::shutdown(state_->fd, how) != 0) return detail::last_error();
  return {};
}

std::uint64_t tcp_socket::id() const noexcept { return state_ != nullptr ? state_->id : 0; }
int tcp_socket::native_handle() const noexcept { return state_ != nullptr ? state_->fd : -1; }

address tcp_socket::local_address() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (state_ == nullptr || ::getsockname(state_->fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

address tcp_socket::peer_address() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (state_ == nullptr || ::getpeername(state_->fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

// ---------------------------------------------------------------- recv

recv_awaiter::recv_awaiter(detail::socket_state* s, std::span<char> into, bool take_all,
                           std::chrono::nanoseconds timeout) noexcept
    : state_(s), into_(into), take_all_(take_all), timeout_(timeout) {
  timer_.owner = this;
  timer_.fire = &on_timeout;
}

recv_awaiter::~recv_awaiter() {
  otter::detail::disarm_timer(&timer_);
  if (waiting_ && state_ != nullptr && state_->waiter == otter::detail::tl_current) state_->waiter = nullptr;
}

bool recv_awaiter::await_ready() {
  if (state_ == nullptr) {
    early_ = std::make_error_code(std::errc::bad_file_descriptor);
    return true;
  }
  if (!state_->adopt_current()) {
    early_ = std::make_error_code(std::errc::operation_not_permitted); // read by another core: give_away it
    return true;
  }
  return !state_->inbuf.empty() || state_->eof || state_->error;
}

void recv_awaiter::await_suspend(std::coroutine_handle<> h) {
  otter::detail::pcb& p = otter::detail::current_process("otter::net::tcp_socket::recv");
  p.resume_point = h;
  state_->waiter = &p;
  waiting_ = true;
  state_->arm();
  if (timeout_ != otter::wait_forever) otter::detail::arm_timer(&timer_, timeout_);
  otter::detail::suspend_waiting(p, nullptr);
}

void recv_awaiter::on_timeout(otter::detail::timer_node* t) noexcept {
  recv_awaiter* self = static_cast<timer*>(t)->owner;
  self->timed_out_ = true;
  self->state_->wake_waiter();
}

io_result<std::size_t> recv_awaiter::await_resume() {
  otter::detail::disarm_timer(&timer_);
  waiting_ = false;
  if (early_) return early_;
  detail::socket_state& s = *state_;
  if (!s.inbuf.empty()) {
    std::size_t n;
    if (take_all_) {
      taken_ = std::exchange(s.inbuf, std::string());
      n = taken_.size();
    } else {
      n = std::min(into_.size(), s.inbuf.size());
      s.inbuf.copy(into_.data(), n);
      s.inbuf.erase(0, n);
    }
    s.recount_inbuf();
    // Read ahead, up to receive_limit, for the next recv.
    s.reading = true;
    try {
      s.arm();
    } catch (...) {
    }
    return n;
  }
  if (s.error) return s.error;
  if (s.eof) return std::size_t{0};
  return std::make_error_code(std::errc::timed_out);
}

io_result<std::string> recv_string_awaiter::await_resume() {
  io_result<std::size_t> r = recv_awaiter::await_resume();
  if (!r) return r.error();
  return std::move(taken_);
}

// ---------------------------------------------------------------- give_away

give_awaiter::give_awaiter(tcp_socket&& s, pid to) : state_(s.release()), to_(to) {}

give_awaiter::~give_awaiter() {
  if (state_ != nullptr) {
    if (state_->waiter == otter::detail::tl_current) state_->waiter = nullptr;
    state_->close_handle(); // not handed over (killed while waiting): close it
  }
}

bool give_awaiter::await_ready() {
  if (state_ == nullptr) return true;
  state_->active = 0;
  state_->owner = {};
  state_->leave_home();
  if (!state_->armed) return true;
  state_->stop_reading(); // wait until this core's ring has let go of it
  return false;
}

void give_awaiter::await_suspend(std::coroutine_handle<> h) {
  otter::detail::pcb& p = otter::detail::current_process("otter::net::give_away");
  p.resume_point = h;
  state_->waiter = &p;
  otter::detail::suspend_waiting(p, nullptr);
}

void give_awaiter::await_resume() {
  if (state_ == nullptr) return;
  if (state_->armed) { // woken by data that raced with the cancel; the cancel is still on its way
    // Rare: hand over anyway once the final completion has come (it wakes nobody now).
  }
  state_->waiter = nullptr;
  if (!state_->armed) state_->home = nullptr;
  otter::send(to_, tcp_socket(std::exchange(state_, nullptr)));
}

// ---------------------------------------------------------------- tcp_listener

tcp_listener& tcp_listener::operator=(tcp_listener&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

tcp_listener::~tcp_listener() { close(); }

void tcp_listener::close() noexcept {
  if (state_ != nullptr) std::exchange(state_, nullptr)->close_handle();
}

io_result<tcp_listener> tcp_listener::listen(const address& at, listen_options options) {
  const int fd = ::socket(at.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return detail::last_error();
  const int on = 1;
  auto fail = [fd] {
    const std::error_code ec = detail::last_error();
    ::close(fd);
    return ec;
  };
  if (options.reuse_address && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) return fail();
  // A claim binds and listens without SO_REUSEPORT: the kernel then refuses
  // the port if any socket listens there (SO_REUSEPORT or not, on this
  // address, the wildcard or the other family of a dual-stack socket). Two
  // claims racing between bind and listen are settled by listen, which checks
  // again. Turned on only afterwards, SO_REUSEPORT lets our later listeners
  // join: the kernel makes this one a reuseport group when the first joins.
  const bool share_first = options.reuse_port && !options.claim_port;
  const bool share_after = options.reuse_port && options.claim_port;
  if (share_first && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) return fail();
  if (at.is_v6() && options.v6_only && ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) return fail();
  if (::bind(fd, at.data(), at.size()) != 0) return fail();
  if (::listen(fd, options.backlog) != 0) return fail();
  if (share_after && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) return fail();
  return tcp_listener(new detail::listener_state(fd, options.accepted));
}

address tcp_listener::local_address() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (state_ == nullptr || ::getsockname(state_->fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

accept_awaiter tcp_listener::accept(std::chrono::nanoseconds timeout) { return accept_awaiter(state_, timeout); }

accept_awaiter::accept_awaiter(detail::listener_state* s, std::chrono::nanoseconds timeout) noexcept
    : state_(s), timeout_(timeout) {
  timer_.owner = this;
  timer_.fire = &on_timeout;
}

accept_awaiter::~accept_awaiter() {
  otter::detail::disarm_timer(&timer_);
  if (waiting_ && state_ != nullptr && state_->waiter == otter::detail::tl_current) state_->waiter = nullptr;
}

bool accept_awaiter::await_ready() {
  if (state_ == nullptr) return true;
  if (state_->home == nullptr) state_->home = otter::detail::tl_scheduler;
  if (!state_->ready.empty() || state_->error) return true;
  if (state_->home != otter::detail::tl_scheduler) return true; // accepted on another core: refused below
  state_->arm();
  return false;
}

void accept_awaiter::await_suspend(std::coroutine_handle<> h) {
  otter::detail::pcb& p = otter::detail::current_process("otter::net::tcp_listener::accept");
  p.resume_point = h;
  state_->waiter = &p;
  waiting_ = true;
  if (timeout_ != otter::wait_forever) otter::detail::arm_timer(&timer_, timeout_);
  otter::detail::suspend_waiting(p, nullptr);
}

void accept_awaiter::on_timeout(otter::detail::timer_node* t) noexcept {
  accept_awaiter* self = static_cast<timer*>(t)->owner;
  self->timed_out_ = true;
  if (self->state_->waiter != nullptr) {
    otter::detail::pcb* p = std::exchange(self->state_->waiter, nullptr);
    self->state_->home->make_ready(*p);
  }
}

io_result<tcp_socket> accept_awaiter::await_resume() {
  otter::detail::disarm_timer(&timer_);
  waiting_ = false;
  if (state_ == nullptr) return std::make_error_code(std::errc::bad_file_descriptor);
  if (state_->home != otter::detail::tl_scheduler) return std::make_error_code(std::errc::operation_not_permitted);
  if (!state_->ready.empty()) {
    const int fd = state_->ready.front();
    state_->ready.pop_front();
    if (!state_->armed) state_->arm(); // flow control let go of it: take more again
    return tcp_socket(new detail::socket_state(fd, state_->accepted));
  }
  if (state_->error) return std::exchange(state_->error, std::error_code{});
  return std::make_error_code(std::errc::timed_out);
}

} // namespace otter::net
