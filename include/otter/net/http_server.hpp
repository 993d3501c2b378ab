#pragma once
#include <otter/detail/config.hpp>

// An HTTP/1.1 connection loop with safe defaults: `serve` reads requests from
// a socket with otter::net::http::parser, answers each with a handler, and
// bounds the time a client may hold the connection — per request, while
// idle, while sending, and while lingering after an error.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <otter/net/http.hpp>
#include <otter/net/tcp.hpp>
#include <otter/task.hpp>

namespace otter::net::http {

/// What a handler answers.
struct response {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain";
  /// More header fields (Upgrade, Location, ...). serve writes Content-Type,
  /// Content-Length and Connection itself.
  std::vector<header> headers;
};

/// Limits and deadlines of `serve`. Every wait is bounded.
struct serve_options {
  http::limits limits{};
  /// A connection with no request started is closed after this long.
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds(60);
  /// Each request must arrive completely within this long of its first byte
  /// (for a pipelined request: of the moment the one before it was answered);
  /// otherwise 408 and close.
  std::chrono::nanoseconds request_timeout = std::chrono::seconds(10);
  /// A send that has not completed within this long (a client that does not
  /// read) drops the connection.
  std::chrono::nanoseconds send_timeout = std::chrono::seconds(30);
  /// After an error response: read and drop what the client still sends, for
  /// at most this long in total and at most `linger_bytes`, then close.
  std::chrono::nanoseconds linger_timeout = std::chrono::seconds(2);
  std::size_t linger_bytes = 1024 * 1024;
};

/// The handler accepted an upgrade (answered 101, or 2xx to CONNECT): the
/// request, and the bytes that followed it, which belong to the new protocol.
struct upgraded {
  http::request request;
  std::string remaining;
};

/// Called for each request in order, on the serving process. For HEAD, serve
/// sends the response's head (with the body's Content-Length) and no body.
using handler = std::function<response(const request&)>;

/// Serves HTTP/1.1 on `socket` until the client closes, a deadline passes, a
/// request is refused (answered with its status, then a lingering close), a
/// response closes the connection, or an upgrade is accepted (then the
/// socket is left open and the result says what followed).
///
/// Run it inside the process that owns `socket`; it receives that socket's
/// messages (active mode, once at a time). If the process traps exits, an
/// exit_message is a stop: the request in hand is finished, answered with
/// Connection: close, and serve returns. Other messages stay in the mailbox.
otter::task<std::optional<upgraded>> serve(tcp_socket& socket, handler handle, serve_options options = {});

} // namespace otter::net::http
