#include <otter/net/udp.hpp>

#include <cerrno>
#include <cstring>
#include <memory>

#include <fcntl.h>

#include <sys/socket.h>
#include <unistd.h>

#include "../io_op.hpp"
#include "../scheduler.hpp"
#include "../uring/ops.hpp"

namespace otter::net {
namespace {

namespace uring = otter::detail::uring;

// The op owns the fd (dup'ed) so that closing the socket while a datagram is in
// flight cannot let the kernel act on a recycled descriptor number.
struct dgram_op : otter::detail::io_op {
  int fd = -1;
  sockaddr_storage peer{};
  msghdr msg{};
  iovec iov{};
  std::string data;
  ~dgram_op() override {
    if (fd >= 0) ::close(fd);
  }
};

struct send_to_op final : dgram_op {
  void prepare(uring::ring& r) override { uring::prep_sendmsg(r, fd, &msg, this); }
};

struct recv_from_op final : dgram_op {
  void prepare(uring::ring& r) override { uring::prep_recvmsg(r, fd, &msg, this); }
};

template <class Op>
Op* make_op(int socket_fd) {
  auto* op = new Op;
  op->fd = socket_fd >= 0 ? ::fcntl(socket_fd, F_DUPFD_CLOEXEC, 0) : -1;
  if (op->fd < 0) {
    op->result = socket_fd >= 0 ? -errno : -EBADF;
    op->failed_to_start = true;
  }
  return op;
}

} // namespace

udp_socket& udp_socket::operator=(udp_socket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

udp_socket::~udp_socket() { close(); }

void udp_socket::close() noexcept {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

io_result<udp_socket> udp_socket::bind(const address& at) {
  const int fd = ::socket(at.family(), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return std::error_code(errno, std::system_category());
  if (::bind(fd, at.data(), at.size()) != 0) {
    const std::error_code ec(errno, std::system_category());
    ::close(fd);
    return ec;
  }
  return udp_socket(fd);
}

address udp_socket::local_address() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (fd_ < 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

send_to_awaiter udp_socket::send_to(const address& to, std::string_view data, std::chrono::nanoseconds timeout) {
  auto* op = make_op<send_to_op>(fd_);
  if (!op->failed_to_start) {
    op->data.assign(data);
    std::memcpy(&op->peer, to.data(), to.size());
    op->iov = {op->data.data(), op->data.size()};
    op->msg.msg_name = &op->peer;
    op->msg.msg_namelen = to.size();
    op->msg.msg_iov = &op->iov;
    op->msg.msg_iovlen = 1;
    op->start();
  }
  return send_to_awaiter(op, timeout);
}

io_result<std::size_t> send_to_awaiter::await_resume() {
  const int r = result();
  if (r < 0) return kernel_error(r);
  return static_cast<std::size_t>(r);
}

recv_from_awaiter udp_socket::recv_from(std::chrono::nanoseconds timeout) {
  auto* op = make_op<recv_from_op>(fd_);
  if (!op->failed_to_start) {
    op->data.resize(64 * 1024);
    op->iov = {op->data.data(), op->data.size()};
    op->msg.msg_name = &op->peer;
    op->msg.msg_namelen = sizeof op->peer;
    op->msg.msg_iov = &op->iov;
    op->msg.msg_iovlen = 1;
    op->start();
  }
  return recv_from_awaiter(op, timeout);
}

io_result<datagram> recv_from_awaiter::await_resume() {
  auto* op = static_cast<recv_from_op*>(this->op());
  const int r = result();
  if (r < 0) return kernel_error(r);
  op->data.resize(static_cast<std::size_t>(r));
  return datagram{address::from_sockaddr(reinterpret_cast<sockaddr*>(&op->peer), op->msg.msg_namelen),
                  std::move(op->data)};
}

} // namespace otter::net
