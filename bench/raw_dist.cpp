// raw-dist: the kernel floor for the distribution workloads of bench/compare.
//
//     raw-dist dist_pingpong|dist_throughput [--quick] [--pin]
//
// Two OS processes, this one (the client) and a forked server, that do nothing
// but the workload's exchanges over loopback TCP: 127.0.0.1, TCP_NODELAY,
// blocking read and write, no runtime, no terms, no scheduler. The frames are
// the bytes otter's distribution sends for the workload's messages between the
// two nodes bench/compare starts (see `frame sizes` below), so the kernel moves
// as many bytes in as many frames as in otter's run:
//
//   dist_pingpong    the client writes a {Pid, N} frame, the server reads it
//                    and writes back an N + 1 frame; 5,000 round trips of
//                    warm-up, then 100,000 timed at the client.
//   dist_throughput  the client writes a {stream, From, Count} frame and then
//                    2,000,000 {msg, I} frames, batched into writes of up to
//                    64 KiB, keeping at most 10,000 unacknowledged (as
//                    otter-workloads' sender does); the server cuts every frame
//                    out of what it reads and checks its header and I, writes
//                    an {ack, I} frame after every 1,000th and a {done, Us}
//                    frame after the last, timed at the server from the stream
//                    frame to the last message (as otter-workloads' peer does).
//
// Prints `floor WORKLOAD VALUE UNIT`. --quick divides the counts by 100; --pin
// puts the server on CPU 0 and the client on CPU 1 (bench/compare pins
// neither, as for the other systems' distribution runs). Exits 1 on any
// failure or after OTTER_BENCH_TIMEOUT_S (default 120) seconds, 2 on bad usage.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

constexpr long ack_every = 1000;
constexpr long window = 10 * ack_every;      // unacknowledged messages the client allows
constexpr std::size_t batch_bytes = 64 << 10; // one write of the client's stream
constexpr std::size_t max_frame = 1 << 10;    // every frame here is far smaller

const char* role = "raw-dist";

[[noreturn]] void die(const char* what, int err = 0) {
    if (err != 0)
        std::fprintf(stderr, "%s: %s: %s\n", role, what, std::strerror(err));
    else
        std::fprintf(stderr, "%s: %s\n", role, what);
    std::exit(1);
}

void on_alarm(int) {
    static const char msg[] = "raw-dist: no result in time\n";
    [[maybe_unused]] const ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(1);
}

void start_timeout() {
    const char* env = std::getenv("OTTER_BENCH_TIMEOUT_S");
    const long seconds = env && std::atol(env) > 0 ? std::atol(env) : 120;
    std::signal(SIGALRM, on_alarm);
    alarm(static_cast<unsigned>(seconds));
}

void pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity", errno);
}

// ------------------------------------------------------------ frame sizes
//
// otter frames a message to a pid as `[Length:32][112][131 Control][131 Payload]`
// with the control {2, '', To} (lib/dist/frame.hpp). A pid is NEW_PID_EXT:
// 88, its node as a SMALL_ATOM_UTF8_EXT, then id, serial and creation (4 bytes
// each). With the node names of bench/compare's runs the frames are, as otter's
// encoder makes them (I and N >= 256, INTEGER_EXT):
//   client -> server {Pid, N} 104 bytes, server -> client N + 1 61 bytes,
//   client -> server {msg, I} 66 bytes,  server -> client {ack, I} 68 bytes.
// The frames below are those bytes; the counter is always the last 4.

constexpr std::string_view client_node = "otter_bench_client@localhost";
constexpr std::string_view server_node = "otter_bench_peer@localhost";

void put_u32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

void put_atom(std::string& out, std::string_view name) {
    out.push_back(119);
    out.push_back(static_cast<char>(name.size()));
    out.append(name);
}

void put_pid(std::string& out, std::string_view node, std::uint32_t id) {
    out.push_back(88);
    put_atom(out, node);
    put_u32(out, id);
    put_u32(out, 0); // serial
    put_u32(out, 1); // creation
}

/// A SEND frame to a pid of `to_node` around `payload` (with its 131 byte).
std::string send_frame(std::string_view to_node, const std::string& payload) {
    std::string control{"\x83\x68\x03\x61\x02", 5};
    put_atom(control, "");
    put_pid(control, to_node, 42);
    std::string frame;
    put_u32(frame, static_cast<std::uint32_t>(1 + control.size() + payload.size()));
    frame.push_back(112);
    return frame + control + payload;
}

/// {Tag, Counter}, the counter last.
std::string tagged(std::string_view tag) {
    std::string p{"\x83\x68\x02", 3};
    put_atom(p, tag);
    p.push_back(98);
    put_u32(p, 0);
    return p;
}

std::string ping_frame() { // {Pid, N}
    std::string p{"\x83\x68\x02", 3};
    put_pid(p, client_node, 7);
    p.push_back(98);
    put_u32(p, 0);
    return send_frame(server_node, p);
}

std::string pong_frame() { // N + 1
    std::string p{"\x83\x62", 2};
    put_u32(p, 0);
    return send_frame(client_node, p);
}

std::string stream_frame() { // {stream, From, Count}
    std::string p{"\x83\x68\x03", 3};
    put_atom(p, "stream");
    put_pid(p, client_node, 7);
    p.push_back(98);
    put_u32(p, 0);
    return send_frame(server_node, p);
}

std::string msg_frame() { return send_frame(server_node, tagged("msg")); }
std::string ack_frame() { return send_frame(client_node, tagged("ack")); }
std::string done_frame() { return send_frame(client_node, tagged("done")); } // {done, Microseconds}

/// Sets the counter of a frame made above.
void set_counter(std::string& frame, std::uint32_t v) {
    char* p = frame.data() + frame.size() - 4;
    for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (24 - 8 * i));
}

std::uint32_t be32(const char* p) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    return std::uint32_t{u[0]} << 24 | std::uint32_t{u[1]} << 16 | std::uint32_t{u[2]} << 8 | u[3];
}

/// The counter of a received frame body (after the length): its last 4 bytes.
std::uint32_t counter(std::string_view body) { return be32(body.data() + body.size() - 4); }

// --------------------------------------------------------------- the wire

void write_all(int fd, const char* p, std::size_t n) {
    while (n > 0) {
        const ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) die("write", errno);
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

void write_all(int fd, const std::string& s) { write_all(fd, s.data(), s.size()); }

/// Cuts the bytes read from a socket into frames, checking each one's header.
class frame_reader {
public:
    explicit frame_reader(int fd) : fd_(fd), buf_(batch_bytes + max_frame) {}

    /// A whole frame is buffered: next() will not read.
    bool has_frame() const {
        const std::size_t held = end_ - begin_;
        return held >= 4 && held >= 4 + be32(buf_.data() + begin_);
    }

    /// The next frame's body, from its 112 byte on, valid until the next call.
    /// Reads as needed: blocking if `block`, else false when nothing is there.
    /// False at the end of the stream between frames; dies inside one.
    bool next(std::string_view& body, bool block = true) {
        while (!has_frame()) {
            if (end_ - begin_ >= 4 && be32(buf_.data() + begin_) > max_frame) die("a frame too long");
            if (begin_ > 0) { // keep the partial frame at the front: room for a full read after it
                std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
                end_ -= begin_;
                begin_ = 0;
            }
            const ssize_t r = recv(fd_, buf_.data() + end_, buf_.size() - end_, block ? 0 : MSG_DONTWAIT);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && !block && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
            if (r < 0) die("read", errno);
            if (r == 0) {
                if (end_ == begin_) return false;
                die("the connection closed inside a frame");
            }
            end_ += static_cast<std::size_t>(r);
        }
        const std::size_t length = be32(buf_.data() + begin_);
        if (length < 5 || buf_[begin_ + 4] != 112) die("a frame that is not a pass-through frame");
        body = std::string_view(buf_.data() + begin_ + 4, length);
        begin_ += 4 + length;
        return true;
    }

    /// Like next(), but the stream must go on and the body be `length` bytes.
    std::string_view expect(std::size_t length, const char* what) {
        std::string_view body;
        if (!next(body)) die("the connection closed");
        if (body.size() != length) die(what);
        return body;
    }

private:
    int fd_;
    std::vector<char> buf_;
    std::size_t begin_ = 0, end_ = 0;
};

void no_delay(int fd) {
    const int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) die("TCP_NODELAY", errno);
}

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

// ------------------------------------------------------------- the server

void serve_pingpong(int fd) {
    frame_reader in(fd);
    const std::size_t ping_body = ping_frame().size() - 4;
    std::string pong = pong_frame();
    std::string_view body;
    while (in.next(body)) {
        if (body.size() != ping_body) die("a ping of the wrong size");
        set_counter(pong, counter(body) + 1);
        write_all(fd, pong);
    }
}

void serve_throughput(int fd) {
    frame_reader in(fd);
    const std::size_t msg_body = msg_frame().size() - 4;
    const long count = counter(in.expect(stream_frame().size() - 4, "not a stream frame"));
    const auto t0 = clock_type::now();
    std::string ack = ack_frame(), acks;
    for (long i = 1; i <= count; ++i) {
        if (counter(in.expect(msg_body, "a message of the wrong size")) != static_cast<std::uint32_t>(i))
            die("a message out of order");
        if (i % ack_every == 0) {
            set_counter(ack, static_cast<std::uint32_t>(i));
            acks += ack;
        }
        if (!acks.empty() && !in.has_frame()) { // what this read brought is done: acknowledge it
            write_all(fd, acks);
            acks.clear();
        }
    }
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - t0).count();
    std::string done = acks + done_frame();
    set_counter(done, static_cast<std::uint32_t>(us));
    write_all(fd, done);
    std::string_view body;
    if (in.next(body)) die("a frame after the stream");
}

// ------------------------------------------------------------- the client

double client_pingpong(int fd, long warmup, long rounds) {
    frame_reader in(fd);
    std::string ping = ping_frame();
    const std::size_t pong_body = pong_frame().size() - 4;
    auto round_trips = [&](long from, long n) {
        for (long i = from; i < from + n; ++i) {
            set_counter(ping, static_cast<std::uint32_t>(i));
            write_all(fd, ping);
            if (counter(in.expect(pong_body, "a reply of the wrong size")) != static_cast<std::uint32_t>(i + 1))
                die("a wrong reply");
        }
    };
    round_trips(1000, warmup);
    const auto t0 = clock_type::now();
    round_trips(1000 + warmup, rounds);
    const double ns = std::chrono::duration<double, std::nano>(clock_type::now() - t0).count();
    return ns / 1e3 / static_cast<double>(rounds);
}

double client_throughput(int fd, long count) {
    frame_reader in(fd);
    const std::size_t ack_body = ack_frame().size() - 4, done_body = done_frame().size() - 4;
    std::string stream = stream_frame(), msg = msg_frame(), batch;
    batch.reserve(batch_bytes);
    set_counter(stream, static_cast<std::uint32_t>(count));
    write_all(fd, stream);
    long acked = 0, done_us = -1;
    // Takes what the server sent: blocking for the first frame if `block`.
    auto take = [&](bool block) {
        std::string_view body;
        while (in.next(body, block)) {
            block = false;
            if (body.size() == ack_body)
                acked = counter(body);
            else if (body.size() == done_body)
                done_us = counter(body);
            else
                die("an unexpected frame from the server");
        }
    };
    for (long i = 1; i <= count;) {
        take(false);
        while (i <= count && i - acked <= window && batch.size() + msg.size() <= batch_bytes) {
            set_counter(msg, static_cast<std::uint32_t>(i++));
            batch += msg;
        }
        if (!batch.empty()) {
            write_all(fd, batch);
            batch.clear();
        } else {
            take(true); // the window is full: wait for an ack
        }
    }
    while (done_us < 0) take(true);
    if (acked != count / ack_every * ack_every) die("acks missing");
    return static_cast<double>(count) / static_cast<double>(done_us);
}

// ------------------------------------------------------------------- main

int usage(const char* self) {
    std::fprintf(stderr, "usage: %s dist_pingpong|dist_throughput [--quick] [--pin]\n", self);
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage(argv[0]);
    const std::string workload = argv[1];
    long scale = 1;
    bool pin = false;
    for (int i = 2; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0)
            scale = 100;
        else if (std::strcmp(argv[i], "--pin") == 0)
            pin = true;
        else
            return usage(argv[0]);
    }
    const bool pingpong = workload == "dist_pingpong";
    if (!pingpong && workload != "dist_throughput") {
        std::fprintf(stderr, "raw-dist: unknown workload %s\n", workload.c_str());
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN); // a write to a closed socket fails with EPIPE instead

    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = loopback(0);
    socklen_t len = sizeof addr;
    if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        die("listen on 127.0.0.1", errno);

    const pid_t client_pid = getpid();
    std::fflush(nullptr);
    const pid_t server = fork();
    if (server < 0) die("fork", errno);
    if (server == 0) {
        role = "raw-dist server";
        prctl(PR_SET_PDEATHSIG, SIGKILL); // dies with the client ...
        if (getppid() != client_pid) _exit(1); // ... also if it is gone already
        start_timeout();
        if (pin) pin_to(0);
        const int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) die("accept", errno);
        close(listener);
        no_delay(fd);
        if (pingpong)
            serve_pingpong(fd);
        else
            serve_throughput(fd);
        close(fd);
        return 0;
    }

    role = "raw-dist client";
    start_timeout();
    if (pin) pin_to(1);
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("connect", errno);
    close(listener);
    no_delay(fd);
    const double value = pingpong ? client_pingpong(fd, 5'000 / scale, 100'000 / scale)
                                  : client_throughput(fd, 2'000'000 / scale);
    close(fd); // the server's read sees the end and it exits
    int status = 0;
    if (waitpid(server, &status, 0) != server) die("waitpid", errno);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("the server failed");
    std::printf("floor %s %.3f %s\n", workload.c_str(), value, pingpong ? "us/roundtrip" : "Mmsg/s");
    return 0;
}
