// raw-echo: the I/O floor for the `echo` workload of WORKLOADS.md.
//
//     raw-echo --port P        (127.0.0.1; P = 0 picks a free port)
//
// A single-threaded TCP echo server written directly on liburing, with no
// runtime in between: what a competent engineer writes by hand. otter's echo
// server is measured against its CPU time per request. Prints
// `raw-echo listening <port>` once listening and serves until SIGTERM or
// SIGINT, then exits 0.
//
// The pattern (liburing 2.3, kernel >= 6.0):
// * one multishot accept on the listening socket;
// * one multishot recv per connection; the kernel picks each buffer from a
//   provided-buffer ring, so idle connections hold no buffer;
// * each received buffer is sent back as is and returned to the ring when its
//   send completes. A connection has at most one send in flight; later
//   buffers queue behind it, so a short send cannot reorder the stream;
// * all SQEs prepared in one loop turn go to the kernel in a single
//   io_uring_submit_and_wait, which also waits for the next completions.

#include <liburing.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr unsigned sq_entries = 1024;
constexpr unsigned cq_entries = 8 * sq_entries;  // multishot ops post many CQEs per SQE
constexpr unsigned buffer_count = 1024;          // a power of two (buffer ring rule)
constexpr unsigned buffer_size = 4096;
constexpr unsigned short buffer_group = 0;
constexpr int none = -1;

[[noreturn]] void die(const char* what, int err) {
    std::fprintf(stderr, "raw-echo: %s: %s\n", what, std::strerror(err));
    std::exit(1);
}

// user_data: the operation in the low byte, a file descriptor or buffer id above.
enum op : uint8_t { op_accept, op_accept_retry, op_recv, op_send, op_signal };
uint64_t tag(op o, unsigned id) { return (uint64_t{id} << 8) | o; }

// A received buffer on its way back to the peer.
struct pending_send {
    int fd = none;
    unsigned offset = 0;  // bytes already sent
    unsigned length = 0;  // bytes received
    int next = none;      // next buffer in the connection's send queue
};

struct connection {
    bool receiving = false;  // a multishot recv is armed
    bool starved = false;    // recv ended with ENOBUFS; re-armed once buffers return
    bool done = false;       // peer closed or failed: close when nothing is in flight
    int head = none;         // send queue; the head's send is in flight
    int tail = none;
};

class echo_server {
public:
    explicit echo_server(int port) {
        listen_fd_ = listen_on(port);
        setup_ring();
        setup_buffers();
        setup_signals();
        arm_accept();
        arm_signal();
    }

    int port() const {
        sockaddr_in a{};
        socklen_t len = sizeof a;
        if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) < 0)
            die("getsockname", errno);
        return ntohs(a.sin_port);
    }

    void run() {
        while (!stop_) {
            int r = io_uring_submit_and_wait(&ring_, 1);
            if (r < 0 && r != -EINTR) die("io_uring_submit_and_wait", -r);
            unsigned head, seen = 0;
            io_uring_cqe* cqe;
            io_uring_for_each_cqe(&ring_, head, cqe) {
                handle(cqe);
                ++seen;
            }
            io_uring_cq_advance(&ring_, seen);
            recycle_buffers();
        }
    }

private:
    static int listen_on(int port) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) die("socket", errno);
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die("bind", errno);
        if (listen(fd, SOMAXCONN) < 0) die("listen", errno);
        return fd;
    }

    void setup_ring() {
        // DEFER_TASKRUN runs completion work only when we enter the kernel to
        // wait, i.e. once per loop turn, instead of interrupting us
        // (kernel 6.1+). Fall back step by step on older kernels.
        const unsigned tries[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
                                  IORING_SETUP_COOP_TASKRUN, 0};
        int r = -EINVAL;
        for (unsigned flags : tries) {
            io_uring_params p{};
            p.flags = flags | IORING_SETUP_CQSIZE;
            p.cq_entries = cq_entries;
            r = io_uring_queue_init_params(sq_entries, &ring_, &p);
            if (r != -EINVAL) break;
        }
        if (r < 0) die("io_uring_queue_init_params", -r);
    }

    void setup_buffers() {
        // The ring of buffer descriptors is shared with the kernel and must be
        // page aligned. The buffers themselves are populated now so that the
        // server's resident memory does not grow as they are first used.
        void* ring = mmap(nullptr, buffer_count * sizeof(io_uring_buf), PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        void* data = mmap(nullptr, size_t{buffer_count} * buffer_size, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (ring == MAP_FAILED || data == MAP_FAILED) die("mmap", errno);
        buf_ring_ = static_cast<io_uring_buf_ring*>(ring);
        buffers_ = static_cast<char*>(data);
        io_uring_buf_ring_init(buf_ring_);
        io_uring_buf_reg reg{};
        reg.ring_addr = reinterpret_cast<uintptr_t>(ring);
        reg.ring_entries = buffer_count;
        reg.bgid = buffer_group;
        if (int r = io_uring_register_buf_ring(&ring_, &reg, 0); r < 0)
            die("io_uring_register_buf_ring", -r);
        sends_.resize(buffer_count);
        for (unsigned bid = 0; bid < buffer_count; ++bid) give_back(static_cast<int>(bid));
        recycle_buffers();
    }

    void setup_signals() {
        // SIGTERM/SIGINT arrive as a read on a signalfd: no race between a
        // handler setting a flag and the loop going to sleep in the kernel.
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        if (sigprocmask(SIG_BLOCK, &set, nullptr) < 0) die("sigprocmask", errno);
        signal_fd_ = signalfd(-1, &set, SFD_CLOEXEC);
        if (signal_fd_ < 0) die("signalfd", errno);
        std::signal(SIGPIPE, SIG_IGN);  // belt and braces: sends use MSG_NOSIGNAL
    }

    io_uring_sqe* sqe() {
        io_uring_sqe* s = io_uring_get_sqe(&ring_);
        if (!s) {  // SQ full in the middle of a turn: hand what we have to the kernel
            io_uring_submit(&ring_);
            s = io_uring_get_sqe(&ring_);
            if (!s) die("io_uring_get_sqe", EBUSY);
        }
        return s;
    }

    void arm_accept() {
        io_uring_sqe* s = sqe();
        io_uring_prep_multishot_accept(s, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        io_uring_sqe_set_data64(s, tag(op_accept, 0));
    }

    void arm_signal() {
        io_uring_sqe* s = sqe();
        io_uring_prep_read(s, signal_fd_, &siginfo_, sizeof siginfo_, 0);
        io_uring_sqe_set_data64(s, tag(op_signal, 0));
    }

    void arm_recv(int fd) {
        io_uring_sqe* s = sqe();
        io_uring_prep_recv_multishot(s, fd, nullptr, 0, 0);
        s->flags |= IOSQE_BUFFER_SELECT;
        s->buf_group = buffer_group;
        io_uring_sqe_set_data64(s, tag(op_recv, static_cast<unsigned>(fd)));
        conns_[fd].receiving = true;
    }

    void send(int bid) {
        pending_send& p = sends_[bid];
        io_uring_sqe* s = sqe();
        io_uring_prep_send(s, p.fd, buffers_ + size_t(bid) * buffer_size + p.offset,
                           p.length - p.offset, MSG_NOSIGNAL);
        io_uring_sqe_set_data64(s, tag(op_send, static_cast<unsigned>(bid)));
    }

    void handle(const io_uring_cqe* cqe) {
        uint64_t data = io_uring_cqe_get_data64(cqe);
        auto id = static_cast<int>(data >> 8);
        bool more = cqe->flags & IORING_CQE_F_MORE;
        switch (static_cast<op>(data & 0xff)) {
        case op_accept: on_accept(cqe->res, more); break;
        case op_accept_retry: arm_accept(); break;
        case op_recv: on_recv(id, cqe, more); break;
        case op_send: on_send(id, cqe->res); break;
        case op_signal: stop_ = true; break;
        }
    }

    void on_accept(int res, bool more) {
        if (res >= 0) {
            accept_backoff_ = false;
            int one = 1;
            setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (static_cast<size_t>(res) >= conns_.size()) conns_.resize(size_t(res) + 1);
            conns_[res] = connection{};
            arm_recv(res);
        } else if (res == -EMFILE || res == -ENFILE || res == -ENOMEM || res == -ENOBUFS) {
            // Out of descriptors or memory: accepting again at once would spin.
            // Back off 10 ms; the pending connections wait in the backlog.
            if (!accept_backoff_)
                std::fprintf(stderr, "raw-echo: accept: %s (retrying every 10 ms)\n",
                             std::strerror(-res));
            accept_backoff_ = true;
            if (!more) {
                io_uring_sqe* s = sqe();
                io_uring_prep_timeout(s, &retry_delay_, 0, 0);
                io_uring_sqe_set_data64(s, tag(op_accept_retry, 0));
            }
            return;
        } else if (res != -ECONNABORTED && res != -EINTR && res != -EAGAIN) {
            die("accept", -res);
        }
        if (!more) arm_accept();  // the kernel ended the multishot accept
    }

    void on_recv(int fd, const io_uring_cqe* cqe, bool more) {
        connection& c = conns_[fd];
        if (!more) c.receiving = false;
        if (cqe->res > 0) {
            push_send(fd, static_cast<int>(cqe->flags >> IORING_CQE_BUFFER_SHIFT),
                      static_cast<unsigned>(cqe->res));
        } else {
            if (cqe->flags & IORING_CQE_F_BUFFER)
                give_back(static_cast<int>(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
            if (cqe->res == -ENOBUFS) {
                // Every buffer is on its way back to some peer. Re-arming now
                // would fail again; wait until a send completes.
                c.starved = true;
                starved_.push_back(fd);
            } else {
                // 0: the peer closed. An error (ECONNRESET, ...): same for us.
                c.done = true;
            }
        }
        // Without F_MORE the kernel ended the multishot recv; re-arm unless
        // the connection is done or waiting for buffers.
        if (!c.receiving && !c.done && !c.starved) arm_recv(fd);
        close_if_idle(fd);
    }

    void push_send(int fd, int bid, unsigned length) {
        sends_[bid] = pending_send{fd, 0, length, none};
        connection& c = conns_[fd];
        if (c.tail == none) {
            c.head = c.tail = bid;
            send(bid);
        } else {
            sends_[c.tail].next = bid;
            c.tail = bid;
        }
    }

    void on_send(int bid, int res) {
        pending_send& p = sends_[bid];
        int fd = p.fd;
        connection& c = conns_[fd];
        if (res < 0) {
            // The peer is gone (EPIPE, ECONNRESET): drop what is queued and
            // shut the socket down, which also ends its multishot recv.
            for (int b = c.head; b != none; b = sends_[b].next) give_back(b);
            c.head = c.tail = none;
            c.done = true;
            shutdown(fd, SHUT_RDWR);
            close_if_idle(fd);
            return;
        }
        p.offset += static_cast<unsigned>(res);
        if (p.offset < p.length) {  // short send: the rest goes before anything queued
            send(bid);
            return;
        }
        c.head = p.next;
        if (c.head == none)
            c.tail = none;
        else
            send(c.head);
        give_back(bid);
        close_if_idle(fd);
    }

    void close_if_idle(int fd) {
        connection& c = conns_[fd];
        if (c.done && !c.receiving && c.head == none) {
            close(fd);
            c = connection{};
        }
    }

    // Returned buffers are staged in the ring and published in one store per
    // loop turn (recycle_buffers).
    void give_back(int bid) {
        io_uring_buf_ring_add(buf_ring_, buffers_ + size_t(bid) * buffer_size, buffer_size,
                              static_cast<unsigned short>(bid),
                              io_uring_buf_ring_mask(buffer_count), returned_++);
    }

    void recycle_buffers() {
        if (returned_ == 0) return;
        io_uring_buf_ring_advance(buf_ring_, returned_);
        returned_ = 0;
        for (int fd : starved_) {
            connection& c = conns_[fd];
            if (c.starved && !c.done) {
                c.starved = false;
                arm_recv(fd);
            }
        }
        starved_.clear();
    }

    io_uring ring_{};
    io_uring_buf_ring* buf_ring_ = nullptr;
    char* buffers_ = nullptr;
    int returned_ = 0;                  // buffers staged since the last advance
    std::vector<pending_send> sends_;   // by buffer id
    std::vector<connection> conns_;     // by file descriptor
    std::vector<int> starved_;          // connections waiting for buffers
    int listen_fd_ = -1;
    int signal_fd_ = -1;
    signalfd_siginfo siginfo_{};
    __kernel_timespec retry_delay_{0, 10'000'000};
    bool accept_backoff_ = false;       // accept failed for lack of resources
    bool stop_ = false;
};

}  // namespace

int main(int argc, char** argv) {
    char* end = nullptr;
    long port = argc == 3 ? std::strtol(argv[2], &end, 10) : -1;
    if (argc != 3 || std::string(argv[1]) != "--port" || end == argv[2] || *end != '\0' ||
        port < 0 || port > 65535) {
        std::fprintf(stderr, "usage: raw-echo --port PORT   (0 picks a free port)\n");
        return 2;
    }
    echo_server server(static_cast<int>(port));
    std::printf("raw-echo listening %d\n", server.port());
    std::fflush(stdout);
    server.run();
    return 0;
}
