#pragma once
// Files for processes: open, read and write at offsets, fsync — on io_uring.

#include <otter/detail/config.hpp>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <fcntl.h>

#include <otter/detail/io_wait.hpp>
#include <otter/io_result.hpp>

namespace otter {

class file;

/// Awaitable of file::open: resumes on the caller's core with the open file or the error.
class [[nodiscard("otter::file::open does nothing until you co_await it")]] open_awaiter : public detail::io_wait {
public:
  using io_wait::io_wait;
  io_result<file> await_resume();
};

/// Awaitable of file::read_at.
class [[nodiscard("file::read_at does nothing until you co_await it")]] read_awaiter : public detail::io_wait {
public:
  read_awaiter(detail::io_op* op, std::span<char> into) noexcept : io_wait(op, otter::wait_forever), into_(into) {}
  /// Bytes read (0 at the end of the file).
  io_result<std::size_t> await_resume();

private:
  std::span<char> into_;
};

/// Awaitable of file::write_at.
class [[nodiscard("file::write_at does nothing until you co_await it")]] write_awaiter : public detail::io_wait {
public:
  using io_wait::io_wait;
  io_result<std::size_t> await_resume();
};

/// Awaitable of file::fsync.
class [[nodiscard("file::fsync does nothing until you co_await it")]] sync_awaiter : public detail::io_wait {
public:
  using io_wait::io_wait;
  io_result<void> await_resume();
};

/// An open file. Move-only; closed by its destructor. Reads and writes are at
/// explicit offsets and go through the calling process's io_uring; the data is
/// copied to and from buffers the operation owns, so a killed process never
/// leaves the kernel writing into freed memory.
class file {
public:
  file() noexcept = default;
  file(file&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  file& operator=(file&& other) noexcept;
  ~file();

  /// open(2) flags and mode: `file::open("log", O_WRONLY | O_CREAT | O_APPEND)`.
  static open_awaiter open(std::string path, int flags = O_RDONLY, unsigned mode = 0644);

  read_awaiter read_at(std::uint64_t offset, std::span<char> into);
  /// Writes all of `data` at `offset` (errors such as no_space_on_device are
  /// reported, and nothing is lost silently).
  write_awaiter write_at(std::uint64_t offset, std::string_view data);
  sync_awaiter fsync();

  int native_handle() const noexcept { return fd_; }
  bool is_open() const noexcept { return fd_ >= 0; }
  void close() noexcept;

private:
  friend class open_awaiter;
  explicit file(int fd) noexcept : fd_(fd) {}
  int fd_ = -1;
};

} // namespace otter
