// Reading ~/.erlang.cookie: the permission check and the created-if-missing rule.
#include "cookie.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace otter::dist {

namespace {

constexpr std::size_t max_cookie = 255;

std::string mode_text(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

std::string errno_text(int e) { return std::strerror(e); }

cookie_result create_cookie(const std::string& path) {
  std::random_device rd;
  std::uniform_int_distribution<int> letter(0, 25);
  std::string cookie;
  for (int i = 0; i < 20; ++i) cookie += static_cast<char>('A' + letter(rd));
  // O_EXCL: if another program creates it first, read theirs instead of clobbering it.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
  if (fd < 0) {
    if (errno == EEXIST) return read_cookie_file(path);
    return {{}, "cannot create cookie file " + path + ": " + errno_text(errno)};
  }
  std::size_t done = 0;
  while (done < cookie.size()) {
    const ssize_t n = ::write(fd, cookie.data() + done, cookie.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return {{}, "cannot write cookie file " + path + ": " + errno_text(e)};
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return {cookie, {}};
}

} // namespace

cookie_result read_cookie_file(const std::string& path) {
  // O_NOFOLLOW is not used: OTP follows a symlinked cookie, and fstat below checks
  // the file actually opened.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return create_cookie(path);
    return {{}, "cannot read cookie file " + path + ": " + errno_text(errno)};
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return {{}, "cannot stat cookie file " + path + ": " + errno_text(e)};
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return {{}, "cookie file " + path + " is not a regular file"};
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return {{}, "cookie file " + path + " must be accessible by owner only (its mode is " + mode_text(st.st_mode) + ")"};
  }
  // Read at most one byte past the limit, plus room for trailing whitespace.
  std::string data;
  char buf[1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return {{}, "cannot read cookie file " + path + ": " + errno_text(e)};
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > 64 * 1024) break; // far past any valid cookie: stop reading
  }
  ::close(fd);
  while (!data.empty() && (data.back() == '\n' || data.back() == '\r' || data.back() == ' ' || data.back() == '\t'))
    data.pop_back();
  if (data.empty()) return {{}, "cookie file " + path + " is empty"};
  if (data.size() > max_cookie)
    return {{}, "cookie in " + path + " is longer than 255 bytes (" + std::to_string(data.size()) + ")"};
  for (char c : data)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
      return {{}, "cookie in " + path + " has a byte that is not printable ASCII"};
  return {data, {}};
}

cookie_result default_cookie() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') return {{}, "HOME is not set: cannot find .erlang.cookie"};
  return read_cookie_file(std::string(home) + "/.erlang.cookie");
}

} // namespace otter::dist
