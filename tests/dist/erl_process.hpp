#pragma once
// Interop-test harness: child processes (erl, epmd) in their own process groups,
// with bounded waits on their output. Used by every test that talks to real Erlang.
//
// Every wait is bounded by a timeout; every child is killed (its whole group) by
// its destructor. Blocking calls (wait_line, wait_exit) block the calling thread:
// from inside an otter process that must keep serving, call them through
// otter::blocking.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <glob.h>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace otter_test {

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and
/// closed). Never 4369.
inline std::uint16_t free_port() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("free_port: socket failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    std::uint16_t port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
    ::close(fd);
    if (port != 0 && port != 4369) return port;
  }
  throw std::runtime_error("free_port: no free port");
}

/// The full path of `program`: found on PATH, else in Erlang's erts bin
/// directories; empty if nowhere.
inline std::string find_program(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string p = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= p.size()) {
    const auto end = p.find(':', start);
    const std::string dir = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty()) {
      const std::string full = dir + "/" + program;
      if (::access(full.c_str(), X_OK) == 0) return full;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  glob_t g{};
  std::string found;
  if (::glob(("/usr/lib/erlang/erts-*/bin/" + program).c_str(), 0, nullptr, &g) == 0 && g.gl_pathc > 0)
    found = g.gl_pathv[g.gl_pathc - 1];
  ::globfree(&g);
  return found;
}

/// True if erl (and epmd) can be run here.
inline bool erlang_available() { return !find_program("erl").empty() && !find_program("epmd").empty(); }

/// A child process in its own process group, its stdout and stderr read
/// together through one pipe, its stdin a pipe.
class child_process {
public:
  child_process() = default;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  child_process(child_process&& o) noexcept { *this = std::move(o); }
  child_process& operator=(child_process&& o) noexcept {
    if (this != &o) {
      kill();
      reap(std::chrono::seconds(5));
      close_fds();
      pid_ = std::exchange(o.pid_, -1);
      out_fd_ = std::exchange(o.out_fd_, -1);
      in_fd_ = std::exchange(o.in_fd_, -1);
      output_ = std::move(o.output_);
      scan_ = o.scan_;
      status_ = o.status_;
      exited_ = o.exited_;
    }
    return *this;
  }
  ~child_process() {
    kill();
    reap(std::chrono::seconds(5));
    close_fds();
  }

  /// Starts `argv` (argv[0] found as find_program does) with `env` added to
  /// (or replacing entries of) this process's environment.
  static child_process start(std::vector<std::string> argv, const std::vector<std::pair<std::string, std::string>>& env = {}) {
    if (argv.empty()) throw std::invalid_argument("child_process: no program");
    const std::string path = find_program(argv[0]);
    if (path.empty()) throw std::runtime_error("child_process: cannot find " + argv[0]);
    std::signal(SIGPIPE, SIG_IGN);
    // Everything the child needs is built before fork: only async-signal-safe
    // calls run between fork and exec.
    std::vector<std::string> envs;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string kv = *e;
      bool replaced = false;
      for (const auto& [k, v] : env)
        if (kv.compare(0, k.size() + 1, k + "=") == 0) replaced = true;
      if (!replaced) envs.push_back(kv);
    }
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::vector<char*> cargv, cenv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    for (auto& e : envs) cenv.push_back(e.data());
    cenv.push_back(nullptr);
    int out[2], in[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("child_process: pipe failed");
    if (::pipe2(in, O_CLOEXEC) != 0) {
      ::close(out[0]);
      ::close(out[1]);
      throw std::runtime_error("child_process: pipe failed");
    }
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("child_process: fork failed");
    if (pid == 0) {
      ::setpgid(0, 0);
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(out[1], 2);
      ::execve(path.c_str(), cargv.data(), cenv.data());
      ::_exit(127);
    }
    ::setpgid(pid, pid); // also here, so the group exists before we might kill it
    ::close(out[1]);
    ::close(in[0]);
    ::fcntl(out[0], F_SETFL, ::fcntl(out[0], F_GETFL) | O_NONBLOCK);
    child_process c;
    c.pid_ = pid;
    c.out_fd_ = out[0];
    c.in_fd_ = in[1];
    return c;
  }

  /// Waits until a complete output line after the last matched one contains
  /// `substr`; false after `timeout` or when the child's output ends first.
  bool wait_line(const std::string& substr, std::chrono::milliseconds timeout) {
    std::lock_guard lock(mutex_);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (match_locked(substr)) return true;
      const auto rest = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (rest.count() <= 0 || out_fd_ < 0) return false;
      if (!read_some_locked(static_cast<int>(rest.count()))) {
        if (out_fd_ < 0) return match_locked(substr);
      }
    }
  }

  /// Everything the child wrote so far (reads what is waiting in the pipe first).
  std::string output() {
    std::lock_guard lock(mutex_);
    while (out_fd_ >= 0 && read_some_locked(0)) {
    }
    return output_;
  }

  /// Writes `text` to the child's stdin; false if it cannot take it.
  bool write_stdin(const std::string& text) {
    std::size_t done = 0;
    while (in_fd_ >= 0 && done < text.size()) {
      const ssize_t n = ::write(in_fd_, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return done == text.size();
  }
  void close_stdin() {
    if (in_fd_ >= 0) ::close(std::exchange(in_fd_, -1));
  }

  /// SIGKILL to the whole process group (the child and what it started).
  void kill() {
    if (pid_ > 0 && !exited_) ::kill(-pid_, SIGKILL);
  }
  /// SIGTERM to the whole group.
  void terminate() {
    if (pid_ > 0 && !exited_) ::kill(-pid_, SIGTERM);
  }

  /// Waits for the child to exit; false after `timeout`.
  bool wait_exit(std::chrono::milliseconds timeout) { return reap(timeout); }
  /// The exit code (128 + signal for a killed child); nullopt while it runs.
  std::optional<int> exit_code() {
    reap(std::chrono::milliseconds(0));
    if (!exited_) return std::nullopt;
    if (WIFEXITED(status_)) return WEXITSTATUS(status_);
    if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
    return -1;
  }
  bool running() { return pid_ > 0 && !exit_code(); }
  pid_t pid() const noexcept { return pid_; }

private:
  bool match_locked(const std::string& substr) {
    for (;;) {
      const auto nl = output_.find('\n', scan_);
      if (nl == std::string::npos) return false;
      const bool hit = std::string_view(output_).substr(scan_, nl - scan_).find(substr) != std::string_view::npos;
      scan_ = nl + 1;
      if (hit) return true;
    }
  }

  // Reads what the pipe has, waiting up to `wait_ms`; false if nothing came.
  bool read_some_locked(int wait_ms) {
    pollfd p{out_fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, wait_ms);
    if (r <= 0) return false;
    char buf[4096];
    const ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n > 0) {
      if (output_.size() < (std::size_t{16} << 20)) output_.append(buf, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      ::close(out_fd_);
      out_fd_ = -1;
      // A last line without a newline still counts.
      if (!output_.empty() && output_.back() != '\n') output_ += '\n';
    }
    return false;
  }

  bool reap(std::chrono::milliseconds timeout) {
    if (pid_ <= 0 || exited_) return exited_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    for (;;) {
      const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
      if (r == pid_ || (r < 0 && errno == ECHILD)) {
        exited_ = true;
        if (r < 0) status_ = 0;
        // The group may outlive its leader (beam's helpers): kill what is left.
        ::kill(-pid_, SIGKILL);
        break;
      }
      const auto rest = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (rest.count() <= 0) break;
      if (pidfd >= 0) {
        pollfd p{pidfd, POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(rest.count()));
      } else {
        ::usleep(10000); // no pidfd (old kernel): poll waitpid, bounded by the deadline
      }
    }
    if (pidfd >= 0) ::close(pidfd);
    return exited_;
  }

  void close_fds() {
    if (out_fd_ >= 0) ::close(std::exchange(out_fd_, -1));
    if (in_fd_ >= 0) ::close(std::exchange(in_fd_, -1));
  }

  std::mutex mutex_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int in_fd_ = -1;
  std::string output_;
  std::size_t scan_ = 0;
  int status_ = 0;
  bool exited_ = false;
};

/// True once something accepts TCP connections on 127.0.0.1:`port` (tries for
/// up to `timeout`, 20 ms apart).
inline bool wait_listening(std::uint16_t port, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int attempt = 0; attempt < 10000; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (ok) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    pollfd none{-1, 0, 0};
    ::poll(&none, 0, 20); // readiness poll: the daemon gives no other sign it is up
  }
  return false;
}

/// A private epmd on 127.0.0.1:`port`.
struct epmd_daemon {
  child_process process;
  std::uint16_t port = 0;

  /// Runs `epmd -port P -address 127.0.0.1` and waits until it listens; throws if it does not.
  static epmd_daemon start(std::uint16_t port) {
    epmd_daemon d;
    d.port = port;
    d.process = child_process::start({"epmd", "-port", std::to_string(port), "-address", "127.0.0.1"});
    if (!wait_listening(port, std::chrono::seconds(10)))
      throw std::runtime_error("epmd did not start on port " + std::to_string(port) + ": " + d.process.output());
    return d;
  }
};

/// An erl node: `erl -noshell -sname NAME -setcookie COOKIE -start_epmd false`
/// with ERL_EPMD_PORT=epmd_port, running `eval_expr` (-eval; empty: none).
struct erl_node {
  child_process process;
  std::string name; ///< as given to -sname (or -name)

  static erl_node start(const std::string& sname, const std::string& cookie, std::uint16_t epmd_port,
                        const std::string& eval_expr, const std::vector<std::string>& extra_args = {}) {
    return start_as("-sname", sname, cookie, epmd_port, eval_expr, extra_args);
  }

  /// As start, with a long name: `erl -name NAME` (e.g. e@127.0.0.1).
  static erl_node start_long(const std::string& name, const std::string& cookie, std::uint16_t epmd_port,
                             const std::string& eval_expr, const std::vector<std::string>& extra_args = {}) {
    return start_as("-name", name, cookie, epmd_port, eval_expr, extra_args);
  }

private:
  static erl_node start_as(const char* name_flag, const std::string& sname, const std::string& cookie,
                           std::uint16_t epmd_port, const std::string& eval_expr,
                           const std::vector<std::string>& extra_args) {
    std::vector<std::string> argv = {"erl", "-noshell", name_flag, sname, "-setcookie", cookie, "-start_epmd", "false"};
    if (!eval_expr.empty()) {
      argv.push_back("-eval");
      argv.push_back(eval_expr);
    }
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    erl_node n;
    n.name = sname;
    n.process = child_process::start(argv, {{"ERL_EPMD_PORT", std::to_string(epmd_port)}});
    return n;
  }
};

} // namespace otter_test
