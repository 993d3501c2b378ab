// echo-load: the load client of the `echo` workload of WORKLOADS.md.
//
//   echo-load --port P [--host 127.0.0.1] [--connections 64] [--size 64]
//             [--seconds 5] [--server-pid PID]
//   echo-load --port P [--host 127.0.0.1] [--size 64] --idle N --server-pid PID
//
// Load mode: N connections; each sends a `size`-byte message and sends the
// next only after the whole echo came back and matched. After 0.5 s of
// warm-up, counts for `seconds` and prints one line
//     requests/s R p50_us A p99_us B cpu_us_per_req C
// where C is the server's CPU time (utime + stime of /proc/PID/stat) over the
// counted interval divided by the requests in it (`nan` without --server-pid).
// Latency is measured per request with steady_clock (1 µs buckets).
//
// Idle mode: opens N connections, one echo round trip on each so the server
// has really set each up, and prints
//     idle_connections N bytes_per_connection B
// where B is the growth of the server's VmRSS divided by N.
//
// One thread, io_uring in load mode so one core can drive the server hard:
// per request one send and one recv SQE, submitted in batches.
// Exit status: 0 ok; 1 connection error, wrong echo, or server gone; 2 usage.

#include <liburing.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto warm_up = 500ms;
constexpr auto stall_limit = 5s;          // no echo at all for this long: fail
constexpr auto socket_timeout_s = 10;     // connect / blocking send / recv in idle mode
constexpr auto idle_deadline = 120s;      // whole idle-mode setup
constexpr int idle_batch = 256;           // connections opened before their round trips

[[noreturn]] void fail(const char* format, ...) {
    std::va_list args;
    va_start(args, format);
    std::fputs("echo-load: ", stderr);
    std::vfprintf(stderr, format, args);
    std::fputc('\n', stderr);
    va_end(args);
    std::exit(1);
}

struct options {
    std::string host = "127.0.0.1";
    long port = -1;
    long connections = 64;
    long size = 64;
    double seconds = 5;
    long server_pid = 0;  // 0: none
    long idle = 0;        // 0: load mode
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "echo-load: %s\n"
                 "usage: echo-load --port P [--host H] [--connections N] [--size BYTES]\n"
                 "                 [--seconds S] [--server-pid PID]\n"
                 "       echo-load --port P [--host H] [--size BYTES] --idle N --server-pid PID\n",
                 why);
    std::exit(2);
}

double number(const char* text, const char* name, double lo, double hi) {
    char* end = nullptr;
    double v = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(v >= lo && v <= hi)) {
        std::string why = std::string("bad value for ") + name + ": '" + text + "'";
        usage(why.c_str());
    }
    return v;
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; i += 2) {
        std::string flag = argv[i];
        if (i + 1 >= argc) usage(("missing value after " + flag).c_str());
        const char* v = argv[i + 1];
        if (flag == "--host") o.host = v;
        else if (flag == "--port") o.port = long(number(v, "--port", 1, 65535));
        else if (flag == "--connections") o.connections = long(number(v, "--connections", 1, 100000));
        else if (flag == "--size") o.size = long(number(v, "--size", 1, 1 << 20));
        else if (flag == "--seconds") o.seconds = number(v, "--seconds", 0.01, 3600);
        else if (flag == "--server-pid") o.server_pid = long(number(v, "--server-pid", 1, 1 << 30));
        else if (flag == "--idle") o.idle = long(number(v, "--idle", 1, 1000000));
        else usage(("unknown option " + flag).c_str());
    }
    if (o.port < 0) usage("--port is required");
    if (o.idle && !o.server_pid) usage("--idle needs --server-pid");
    return o;
}

// ------------------------------------------------------------ the server

// utime + stime of the whole process (all threads), in clock ticks.
std::optional<long long> cpu_ticks(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    // Field 2 (comm) may hold spaces; fields 3.. follow the last ')'.
    std::istringstream rest(line.substr(line.rfind(')') + 1));
    std::string field;
    long long utime = 0, stime = 0;
    for (int n = 3; n <= 15 && rest >> field; ++n) {
        if (n == 14) utime = std::stoll(field);
        if (n == 15) stime = std::stoll(field);
    }
    return utime + stime;
}

long long rss_bytes(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
    fail("server process %ld is gone (no /proc/%ld/status)", pid, pid);
}

// ------------------------------------------------------------ connections

void raise_fd_limit(long wanted) {
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur != RLIM_INFINITY && rlim_t(wanted) + 16 > lim.rlim_cur)
        fail("cannot open %ld connections: the open-file limit is %llu (ulimit -Hn)", wanted,
             static_cast<unsigned long long>(lim.rlim_cur));
}

int connect_to(const options& o, long index, long total) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(o.port));
    if (inet_pton(AF_INET, o.host.c_str(), &a.sin_addr) != 1)
        fail("--host %s is not an IPv4 address", o.host.c_str());
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket for connection %ld of %ld: %s", index + 1, total, std::strerror(errno));
    // Bounds connect() and the idle mode's blocking send/recv.
    timeval t{socket_timeout_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof t);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
        fail("connect to %s:%ld (connection %ld of %ld): %s", o.host.c_str(), o.port, index + 1,
             total, errno == EINPROGRESS ? "timed out" : std::strerror(errno));
    return fd;
}

// Distinct bytes per connection and per request, so a mixed-up echo shows.
void fill_message(std::vector<char>& msg, long conn, uint64_t seq) {
    for (size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<char>(conn * 7 + long(i) * 13);
    std::memcpy(msg.data(), &seq, std::min(msg.size(), sizeof seq));
}

// ------------------------------------------------------------ load mode

// Counts per microsecond up to 100 ms; slower requests share the last
// bucket, whose quantiles report the slowest request seen.
class latency_histogram {
public:
    void record(clock_type::duration d) {
        long long us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
        ++counts_[static_cast<size_t>(std::clamp<long long>(us, 0, buckets - 1))];
        max_us_ = std::max(max_us_, us);
        ++total_;
    }
    // The upper edge, in µs, of the bucket holding the q-quantile.
    double quantile(double q) const {
        auto rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * double(total_))));
        uint64_t seen = 0;
        for (size_t i = 0; i < counts_.size(); ++i)
            if ((seen += counts_[i]) >= rank)
                return i + 1 < counts_.size() ? double(i + 1) : double(max_us_);
        return NAN;
    }
    void clear() {
        std::fill(counts_.begin(), counts_.end(), 0);
        total_ = 0;
        max_us_ = 0;
    }

private:
    static constexpr long long buckets = 100'000;
    std::vector<uint64_t> counts_ = std::vector<uint64_t>(buckets);
    uint64_t total_ = 0;
    long long max_us_ = 0;
};

struct load_connection {
    int fd = -1;
    std::vector<char> out, in;  // the message; its echo
    size_t sent = 0, received = 0;
    uint64_t seq = 0;
    clock_type::time_point started;
};

class load_client {
public:
    explicit load_client(const options& o) : o_(o), conns_(size_t(o.connections)) {
        unsigned entries = unsigned(2 * o.connections + 8);  // one send + one recv each
        io_uring_params p{};
        p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
        int r = io_uring_queue_init_params(entries, &ring_, &p);
        if (r == -EINVAL) r = io_uring_queue_init(entries, &ring_, 0);  // kernel < 6.1
        if (r < 0) fail("io_uring_queue_init: %s", std::strerror(-r));
        for (long i = 0; i < o.connections; ++i) {
            load_connection& c = conns_[size_t(i)];
            c.fd = connect_to(o, i, o.connections);
            c.out.resize(size_t(o.size));
            c.in.resize(size_t(o.size));
        }
    }

    void run() {
        auto now = clock_type::now();
        for (size_t i = 0; i < conns_.size(); ++i) start_request(i, now);
        const auto count_from = now + warm_up;
        const auto end = count_from + std::chrono::duration<double>(o_.seconds);
        auto last_echo = now, counted_since = now;
        std::optional<long long> cpu_before;
        bool counting = false;
        while (true) {
            __kernel_timespec wait{0, 50'000'000};  // wake up to check the clock
            io_uring_cqe* cqe = nullptr;
            int r = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &wait, nullptr);
            if (r < 0 && r != -ETIME && r != -EINTR)
                fail("io_uring_submit_and_wait_timeout: %s", std::strerror(-r));
            now = clock_type::now();
            uint64_t before = completed_;
            unsigned head, seen = 0;
            io_uring_for_each_cqe(&ring_, head, cqe) {
                handle(cqe, now, counting);
                ++seen;
            }
            io_uring_cq_advance(&ring_, seen);
            if (completed_ != before) last_echo = now;
            else if (now - last_echo > stall_limit) fail("no echo for 5 s: server stuck or gone");
            if (!counting && now >= count_from) {
                counting = true;
                counted_since = now;
                completed_ = 0;
                latency_.clear();
                if (o_.server_pid) cpu_before = server_ticks();
            } else if (counting && now >= end) {
                break;
            }
        }
        double elapsed_s = std::chrono::duration<double>(now - counted_since).count();
        double cpu_us = NAN;
        if (o_.server_pid)
            cpu_us = double(server_ticks() - *cpu_before) * 1e6 / double(sysconf(_SC_CLK_TCK));
        if (completed_ == 0) fail("no request completed in the counted interval");
        std::printf("requests/s %.1f p50_us %.0f p99_us %.0f cpu_us_per_req %.3f\n",
                    double(completed_) / elapsed_s, latency_.quantile(0.50),
                    latency_.quantile(0.99), cpu_us / double(completed_));
    }

private:
    long long server_ticks() const {
        auto t = cpu_ticks(o_.server_pid);
        if (!t) fail("server process %ld is gone (no /proc/%ld/stat)", o_.server_pid, o_.server_pid);
        return *t;
    }

    io_uring_sqe* sqe() {
        // The SQ has room for every connection's send and recv at once.
        io_uring_sqe* s = io_uring_get_sqe(&ring_);
        if (!s) fail("io_uring submission queue full");
        return s;
    }

    void prep_send(size_t i) {
        load_connection& c = conns_[i];
        io_uring_sqe* s = sqe();
        io_uring_prep_send(s, c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        io_uring_sqe_set_data64(s, i << 1);
    }

    void prep_recv(size_t i) {
        load_connection& c = conns_[i];
        io_uring_sqe* s = sqe();
        io_uring_prep_recv(s, c.fd, c.in.data() + c.received, c.in.size() - c.received, 0);
        // The echo cannot be there yet: skip the attempt, wait for readiness.
        s->ioprio |= IORING_RECVSEND_POLL_FIRST;
        io_uring_sqe_set_data64(s, i << 1 | 1);
    }

    void start_request(size_t i, clock_type::time_point now) {
        load_connection& c = conns_[i];
        fill_message(c.out, long(i), ++c.seq);
        c.sent = c.received = 0;
        c.started = now;
        prep_send(i);
        prep_recv(i);
    }

    void handle(const io_uring_cqe* cqe, clock_type::time_point now, bool counting) {
        uint64_t data = io_uring_cqe_get_data64(cqe);
        size_t i = data >> 1;
        bool is_recv = data & 1;
        load_connection& c = conns_[i];
        if (cqe->res < 0)
            fail("%s on connection %zu: %s", is_recv ? "recv" : "send", i + 1,
                 std::strerror(-cqe->res));
        if (is_recv && cqe->res == 0) fail("server closed connection %zu", i + 1);
        if (is_recv) {
            c.received += size_t(cqe->res);
            if (c.received < c.in.size()) prep_recv(i);  // the echo came in pieces
        } else {
            c.sent += size_t(cqe->res);
            if (c.sent < c.out.size()) prep_send(i);     // short send: send the rest
        }
        if (c.sent < c.out.size() || c.received < c.in.size()) return;
        if (std::memcmp(c.in.data(), c.out.data(), c.out.size()) != 0)
            fail("connection %zu, request %llu: the echo differs from what was sent", i + 1,
                 static_cast<unsigned long long>(c.seq));
        if (counting) latency_.record(now - c.started);
        ++completed_;
        start_request(i, now);
    }

    const options& o_;
    io_uring ring_{};
    std::vector<load_connection> conns_;
    latency_histogram latency_;
    uint64_t completed_ = 0;
};

// ------------------------------------------------------------ idle mode

void send_all(int fd, const char* p, size_t n, long index) {
    while (n > 0) {
        ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
        if (r <= 0) fail("send on connection %ld: %s", index + 1, r < 0 ? std::strerror(errno) : "?");
        p += r, n -= size_t(r);
    }
}

void recv_all(int fd, char* p, size_t n, long index) {
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r == 0) fail("server closed connection %ld", index + 1);
        if (r < 0)
            fail("recv on connection %ld: %s", index + 1,
                 errno == EAGAIN ? "no echo within 10 s" : std::strerror(errno));
        p += r, n -= size_t(r);
    }
}

void run_idle(const options& o) {
    const long n = o.idle;
    const long long rss_before = rss_bytes(o.server_pid);
    const auto deadline = clock_type::now() + idle_deadline;
    std::vector<int> fds;
    fds.reserve(size_t(n));
    std::vector<char> out(size_t(o.size)), in(size_t(o.size));
    // In batches, so the server never has more than one batch in its backlog.
    for (long first = 0; first < n; first += idle_batch) {
        long last = std::min(n, first + idle_batch);
        for (long i = first; i < last; ++i) fds.push_back(connect_to(o, i, n));
        for (long i = first; i < last; ++i) {
            fill_message(out, i, 1);
            send_all(fds[size_t(i)], out.data(), out.size(), i);
        }
        for (long i = first; i < last; ++i) {
            fill_message(out, i, 1);
            recv_all(fds[size_t(i)], in.data(), in.size(), i);
            if (in != out) fail("connection %ld: the echo differs from what was sent", i + 1);
        }
        if (clock_type::now() > deadline)
            fail("opened only %ld of %ld connections in %lld s", last, n,
                 static_cast<long long>(idle_deadline.count()));
    }
    // Let the server finish whatever it does after the last echo.
    long long rss_after = rss_bytes(o.server_pid);
    for (int i = 0; i < 20; ++i) {
        std::this_thread::sleep_for(100ms);
        long long again = rss_bytes(o.server_pid);
        if (again == rss_after) break;
        rss_after = again;
    }
    std::printf("idle_connections %ld bytes_per_connection %.1f\n", n,
                double(rss_after - rss_before) / double(n));
    std::fflush(stdout);
    for (int fd : fds) close(fd);
}

}  // namespace

int main(int argc, char** argv) {
    options o = parse(argc, argv);
    raise_fd_limit(o.idle ? o.idle : o.connections);
    if (o.idle) {
        run_idle(o);
    } else {
        if (o.server_pid && !cpu_ticks(o.server_pid)) fail("no server process %ld", o.server_pid);
        load_client(o).run();
    }
    return 0;
}
