#include <otter/net/http_server.hpp>

#include <cstdint>
#include <string>

#include <otter/link.hpp>
#include <otter/receive.hpp>
#include <otter/timer.hpp>

namespace otter::net::http {

namespace {

enum class event { data, closed, stop, timeout };

// After an error response the client may still be sending: closing with
// unread data would reset the connection and could destroy the response
// before the client reads it. So no more writes, then read and drop what
// comes until the client closes, `options.linger_bytes` came, or the TOTAL
// `options.linger_timeout` is over — a client trickling bytes cannot keep it.
otter::task<> linger(tcp_socket& socket, const serve_options& options) {
  socket.shutdown();
  const auto deadline = otter::monotonic_time() + options.linger_timeout;
  std::size_t dropped = 0;
  while (dropped < options.linger_bytes) {
    const auto left = deadline - otter::monotonic_time();
    if (left <= std::chrono::nanoseconds::zero()) co_return;
    auto got = co_await socket.recv(left);
    if (!got || got->empty()) co_return;
    dropped += got->size();
  }
}

bool accepts_upgrade(const request& r, int status) {
  return r.method == "CONNECT" ? status >= 200 && status < 300 : status == 101;
}

void append_status_line(std::string& out, int status) {
  out.append("HTTP/1.1 ");
  out.append(std::to_string(status));
  out.push_back(' ');
  out.append(reason_phrase(status));
  out.append("\r\n");
}

void append_headers(std::string& out, const response& r) {
  for (const header& h : r.headers) {
    out.append(h.name);
    out.append(": ");
    out.append(h.value);
    out.append("\r\n");
  }
}

// A response to HEAD has the head a GET would get, and no body (RFC 9110 §9.3.2).
void write(std::string& out, const response& r, bool keep_alive, bool head_only) {
  append_status_line(out, r.status);
  out.append("Content-Type: ");
  out.append(r.content_type);
  out.append("\r\nContent-Length: ");
  out.append(std::to_string(r.body.size()));
  out.append("\r\n");
  append_headers(out, r);
  out.append(keep_alive ? "\r\n" : "Connection: close\r\n\r\n");
  if (!head_only) out.append(r.body);
}

// 101, or 2xx to CONNECT: no Content-Length (RFC 9110 §8.6), and what
// follows the head belongs to the new protocol.
void write_switch(std::string& out, const response& r) {
  append_status_line(out, r.status);
  append_headers(out, r);
  out.append("\r\n");
  out.append(r.body);
}

// What serve holds for a connection — the parser's buffered request bytes and
// the responses not yet sent — counted against the node's connection memory
// budget, so a server full of unfinished uploads is bounded like one full of
// unread socket data. Given back when serve returns (or is destroyed with its
// process; a closing socket gives back what is still charged anyway).
class held_bytes {
public:
  explicit held_bytes(tcp_socket& socket) noexcept : socket_(socket) {}
  held_bytes(const held_bytes&) = delete;
  held_bytes& operator=(const held_bytes&) = delete;
  ~held_bytes() { set(0); }
  void set(std::size_t now) noexcept {
    if (now == charged_ || !socket_.is_open()) return;
    socket_.charge(static_cast<std::ptrdiff_t>(now) - static_cast<std::ptrdiff_t>(charged_));
    charged_ = now;
  }

private:
  tcp_socket& socket_;
  std::size_t charged_ = 0;
};

} // namespace

otter::task<std::optional<upgraded>> serve(tcp_socket& socket, handler handle, serve_options options) {
  parser parser(options.limits);
  std::string out;
  held_bytes held(socket);
  bool stopping = false;
  std::chrono::nanoseconds request_deadline{};
  for (;;) {
    // Answer every complete request buffered (pipelined ones in one send).
    bool keep_alive = true;
    bool answered = false;
    std::optional<upgraded> upgrade;
    while (keep_alive) {
      auto request = parser.next();
      if (!request) break;
      answered = true;
      const response answer = handle(*request);
      keep_alive = request->keep_alive() && !stopping;
      if (request->upgrade) {
        if (accepts_upgrade(*request, answer.status)) {
          // No Content-Length or Connection framing: the new protocol follows.
          write_switch(out, answer);
          upgrade.emplace();
          upgrade->remaining = parser.take_remaining();
          upgrade->request = std::move(*request);
          break;
        }
        parser.resume();
      }
      write(out, answer, keep_alive, request->method == "HEAD");
    }
    held.set(parser.buffered() + out.size());
    const bool refused = parser.error().has_value();
    if (refused) {
      write_response(out, parser.error()->status, parser.error()->reason + "\n", false);
      keep_alive = false;
    }
    if (!out.empty()) {
      auto sent = co_await socket.send(out, options.send_timeout);
      if (!sent) co_return std::nullopt;
      out.clear();
      held.set(parser.buffered());
    }
    if (upgrade) co_return upgrade;
    if (refused) {
      co_await linger(socket, options);
      co_return std::nullopt;
    }
    if (!keep_alive || (stopping && parser.buffered() == 0)) co_return std::nullopt;

    // Wait for more: an idle connection for `idle_timeout`; a started request
    // only until its own deadline, however slowly its bytes trickle in. A
    // pipelined request's deadline starts when the one before it is answered.
    const auto now = otter::monotonic_time();
    if (parser.buffered() == 0) request_deadline = {};
    else if (answered || request_deadline == std::chrono::nanoseconds{}) request_deadline = now + options.request_timeout;
    const std::chrono::nanoseconds wait =
        request_deadline != std::chrono::nanoseconds{} ? request_deadline - now : options.idle_timeout;
    // Only this socket's messages: the process may own other sockets.
    socket.set_active(active_mode::once());
    const std::uint64_t id = socket.id();
    auto next_event = otter::receive(
        otter::when([id](const tcp_data& d) { return d.socket == id; },
                    [&parser, &held](tcp_data d) {
                      parser.feed(d.bytes);
                      held.set(parser.buffered());
                      return event::data;
                    }),
        otter::when([id](const tcp_closed& c) { return c.socket == id; }, [](tcp_closed) { return event::closed; }),
        otter::when([id](const tcp_error& c) { return c.socket == id; }, [](tcp_error) { return event::closed; }),
        [](otter::exit_message) { return event::stop; }, otter::after(wait, [] { return event::timeout; }));
    const event e = co_await next_event;
    switch (e) {
    case event::data:
      break;
    case event::closed:
      co_return std::nullopt;
    case event::stop:
      stopping = true; // finish the request in hand, if any, then close
      break;
    case event::timeout:
      if (parser.buffered() > 0) {
        write_response(out, 408, "request timeout\n", false);
        auto sent = co_await socket.send(out, options.send_timeout);
        (void)sent;
      }
      co_return std::nullopt;
    }
  }
}

} // namespace otter::net::http
