#include <otter/file.hpp>

#include <cerrno>
#include <cstring>
#include <limits>

#include <unistd.h>

#include "io_op.hpp"
#include "scheduler.hpp"
#include "uring/ops.hpp"

namespace otter {
namespace {

namespace uring = detail::uring;

struct file_op : detail::io_op {
  int fd = -1; // a dup of the file's descriptor, kept until the kernel is done
  ~file_op() override {
    if (fd >= 0) ::close(fd);
  }
};

struct open_op final : file_op {
  std::string path;
  int flags = 0;
  unsigned mode = 0;
  int opened = -1;
  ~open_op() override {
    if (opened >= 0) ::close(opened);
  }
  void prepare(uring::ring& r) override { uring::prep_openat(r, path.c_str(), flags | O_CLOEXEC, mode, this); }
  bool again(int result, std::uint32_t) override {
    opened = result;
    return false;
  }
};

struct read_op final : file_op {
  std::uint64_t offset = 0;
  std::string buffer;
  void prepare(uring::ring& r) override {
    uring::prep_read(r, fd, buffer.data(), static_cast<unsigned>(buffer.size()), offset, this);
  }
};

struct write_op final : file_op {
  std::uint64_t offset = 0;
  std::string data;
  std::size_t written = 0;
  void prepare(uring::ring& r) override {
    uring::prep_write(r, fd, data.data() + written, static_cast<unsigned>(data.size() - written), offset + written, this);
  }
  bool again(int result, std::uint32_t) override { // a short write: write the rest
    written += static_cast<std::size_t>(result);
    if (written >= data.size() || result == 0) return false;
    prepare(home->ring());
    return true;
  }
};

struct fsync_op final : file_op {
  void prepare(uring::ring& r) override { uring::prep_fsync(r, fd, this); }
};

template <class Op>
Op* with_fd(int file_fd) {
  auto* op = new Op;
  op->fd = file_fd >= 0 ? ::fcntl(file_fd, F_DUPFD_CLOEXEC, 0) : -1;
  if (op->fd < 0) {
    op->result = file_fd >= 0 ? -errno : -EBADF;
    op->failed_to_start = true;
  }
  return op;
}

} // namespace

file& file::operator=(file&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

file::~file() { close(); }

void file::close() noexcept {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

open_awaiter file::open(std::string path, int flags, unsigned mode) {
  auto* op = new open_op;
  op->path = std::move(path);
  op->flags = flags;
  op->mode = mode;
  op->start();
  return open_awaiter(op, otter::wait_forever);
}

io_result<file> open_awaiter::await_resume() {
  auto* op = static_cast<open_op*>(this->op());
  const int r = result();
  if (r < 0) return kernel_error(r);
  return file(std::exchange(op->opened, -1));
}

read_awaiter file::read_at(std::uint64_t offset, std::span<char> into) {
  auto* op = with_fd<read_op>(fd_);
  if (!op->failed_to_start) {
    op->offset = offset;
    op->buffer.resize(std::min<std::size_t>(into.size(), std::numeric_limits<int>::max()));
    op->start();
  }
  return read_awaiter(op, into);
}

io_result<std::size_t> read_awaiter::await_resume() {
  auto* op = static_cast<read_op*>(this->op());
  const int r = result();
  if (r < 0) return kernel_error(r);
  std::memcpy(into_.data(), op->buffer.data(), static_cast<std::size_t>(r));
  return static_cast<std::size_t>(r);
}

write_awaiter file::write_at(std::uint64_t offset, std::string_view data) {
  auto* op = with_fd<write_op>(fd_);
  if (!op->failed_to_start) {
    op->offset = offset;
    op->data.assign(data);
    op->start();
  }
  return write_awaiter(op, otter::wait_forever);
}

io_result<std::size_t> write_awaiter::await_resume() {
  auto* op = static_cast<write_op*>(this->op());
  const int r = result();
  if (r < 0) return kernel_error(r);
  if (op->written < op->data.size()) return std::make_error_code(std::errc::no_space_on_device); // wrote 0: stuck
  return op->written;
}

sync_awaiter file::fsync() {
  auto* op = with_fd<fsync_op>(fd_);
  if (!op->failed_to_start) op->start();
  return sync_awaiter(op, otter::wait_forever);
}

io_result<void> sync_awaiter::await_resume() {
  const int r = result();
  if (r < 0) return kernel_error(r);
  return {};
}

} // namespace otter
