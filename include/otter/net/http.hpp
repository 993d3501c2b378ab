#pragma once
// A small, strict HTTP/1.1 request parser and response writer for servers
// built on otter: incremental (bytes arrive in pieces), pipelining-aware, and
// bounded (header size and count), so a malformed or hostile client gets a
// clear status instead of unbounded work.

#include <otter/detail/config.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otter::net::http {

struct header {
  std::string name; // as sent; compare with iequals
  std::string value;
};

struct request {
  std::string method;
  std::string target;
  int version_minor = 1; // HTTP/1.x
  std::vector<header> headers;
  std::string body;

  /// The value of the first header called `name` (case-insensitive).
  std::optional<std::string_view> find(std::string_view name) const;
  /// Whether the connection stays open after the response (HTTP/1.1 default
  /// yes, 1.0 default no, either overridden by Connection).
  bool keep_alive() const;
};

struct limits {
  std::size_t max_header_bytes = 8 * 1024; ///< request line plus headers
  std::size_t max_headers = 64;
  std::size_t max_body_bytes = 1024 * 1024;
};

/// Why a request was refused; `status` is what to answer before closing.
struct parse_error {
  int status;          ///< 400, 413, 431, 501, 505
  std::string reason;  ///< a short explanation, for the response body
};

/// Feed it bytes as they come; take complete requests out in order.
class parser {
public:
  explicit parser(limits l = {}) : limits_(l) {}

  /// Adds received bytes.
  void feed(std::string_view bytes) { buffer_.append(bytes); }

  /// The next complete request, if the buffered bytes hold one. After an
  /// error, the connection is unusable: answer `error()->status` and close.
  std::optional<request> next();
  const std::optional<parse_error>& error() const noexcept { return error_; }

  /// Bytes buffered and not yet part of a returned request.
  std::size_t buffered() const noexcept { return buffer_.size() - consumed_; }

private:
  bool fail(int status, std::string reason);

  limits limits_;
  std::string buffer_;
  std::size_t consumed_ = 0;
  std::optional<parse_error> error_;
};

/// Appends a complete response to `out` (so pipelined responses can be sent
/// together). Content-Length is set from the body.
void write_response(std::string& out, int status, std::string_view body, bool keep_alive,
                    std::string_view content_type = "text/plain");

/// The standard reason phrase ("OK", "Bad Request", ...).
std::string_view reason_phrase(int status) noexcept;

/// Case-insensitive ASCII comparison (header names).
bool iequals(std::string_view a, std::string_view b) noexcept;

} // namespace otter::net::http
