#pragma once
#include <otter/detail/config.hpp>

// A strict HTTP/1.1 request parser (RFC 9112 / RFC 9110) and response writer
// for servers built on otter: incremental (bytes arrive in pieces),
// pipelining-aware, and bounded (header bytes and count, body bytes, chunk
// lines), so a malformed or hostile client gets a clear status instead of
// unbounded work. Anything the RFC leaves open to interpretation is refused
// rather than guessed at: two parsers that disagree on where a request ends
// are how requests get smuggled. docs/http.md lists what is accepted.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otter::net::http {

struct header {
  std::string name; // as sent; compare with iequals
  std::string value; // without leading and trailing whitespace
};

struct request {
  std::string method;
  std::string target;
  int version_minor = 1; // HTTP/1.x
  std::vector<header> headers;
  std::string body;              ///< decoded (chunked framing removed)
  std::vector<header> trailers;  ///< trailer fields of a chunked body
  /// CONNECT, or an Upgrade listed in Connection: if the handler accepts it,
  /// the bytes after this request are not HTTP (see parser::take_remaining).
  bool upgrade = false;

  /// The value of the first header called `name` (case-insensitive).
  std::optional<std::string_view> find(std::string_view name) const;
  /// Whether Connection (every such header, a comma-separated token list,
  /// case-insensitive) lists `option`.
  bool has_connection_option(std::string_view option) const;
  /// Whether the connection stays open after the response: HTTP/1.1 unless
  /// Connection lists "close"; HTTP/1.0 only if it lists "keep-alive" and
  /// not "close".
  bool keep_alive() const;
};

struct limits {
  std::size_t max_header_bytes = 8 * 1024; ///< request line, headers, empty lines before, trailers
  std::size_t max_headers = 64;            ///< header plus trailer fields
  std::size_t max_body_bytes = 1024 * 1024; ///< decoded body
  std::size_t max_chunk_line_bytes = 1024;  ///< one chunk-size line with its extensions
};

/// Why a request was refused; `status` is what to answer before closing.
struct parse_error {
  int status;          ///< 400, 413, 431, 501, 505
  std::string reason;  ///< a short explanation, for the response body
};

/// Feed it bytes as they come; take complete requests out in order.
///
/// The parser stops for good after an error, after a request that closes the
/// connection (the bytes after it are dropped, never parsed), and after
/// take_remaining(). It pauses after an upgrade request until the handler
/// says whether it switched protocols.
class parser {
public:
  explicit parser(limits l = {}) : limits_(l) {}

  /// Adds received bytes (dropped once the parser has stopped).
  void feed(std::string_view bytes);

  /// The next complete request, if the buffered bytes hold one. After an
  /// error, the connection is unusable: answer `error()->status` and close.
  std::optional<request> next();
  const std::optional<parse_error>& error() const noexcept { return error_; }

  /// Bytes held for requests not yet returned: raw bytes not parsed yet,
  /// plus the head and the decoded body of the request being parsed.
  std::size_t buffered() const noexcept { return buffer_.size() - consumed_ + held_; }

  /// The parser will return no more requests: an error, a request that
  /// closes the connection, or take_remaining().
  bool stopped() const noexcept { return state_ == state::failed || state_ == state::closed; }

  /// After a request with `upgrade` set, next() returns nothing until one of:
  bool paused() const noexcept { return state_ == state::paused; }
  /// the handler switched protocols (101, or 2xx to CONNECT): the bytes that
  /// followed the request, which belong to the new protocol. The parser stops.
  std::string take_remaining();
  /// the handler refused the upgrade: parsing HTTP goes on.
  void resume() noexcept;

private:
  enum class state { head, body, chunk_line, chunk_data, chunk_end, trailers, paused, closed, failed };

  bool fail(int status, std::string reason);
  bool request_line(std::string_view line);
  bool field_line(std::string_view line, std::vector<header>& into);
  bool head_complete();
  bool next_line(std::size_t max, int status_if_long, std::string_view& line);
  bool chunk_size_line(std::string_view line);
  std::optional<request> step();
  std::optional<request> finish();
  void close();
  void compact();

  limits limits_;
  std::string buffer_;
  std::size_t consumed_ = 0; // bytes of buffer_ parsed and no longer needed
  std::size_t scan_ = 0;     // where the search for the current line's end resumes
  std::size_t held_ = 0;     // head bytes plus decoded body of `current_`
  std::size_t head_bytes_ = 0;
  std::size_t fields_ = 0;
  std::uint64_t remaining_ = 0; // body or chunk bytes still to come
  bool resume_keep_alive_ = false;
  bool have_request_line_ = false;
  state state_ = state::head;
  request current_;
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
