#include <otter/net/http.hpp>

#include <algorithm>
#include <charconv>
#include <limits>

namespace otter::net::http {

namespace {

bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_token_char(char c) noexcept {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
  case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
  case '-': case '.': case '^': case '_': case '`': case '|': case '~':
    return true;
  default:
    return false;
  }
}

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_token_char(c)) return false;
  return true;
}

// RFC 3986 unreserved and sub-delims: the characters of a reg-name.
bool is_unreserved(char c) noexcept {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_sub_delim(char c) noexcept {
  switch (c) {
  case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',': case ';': case '=':
    return true;
  default:
    return false;
  }
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Calls f(element) for each element of a comma-separated list, trimmed;
// empty elements are skipped, as RFC 9110 §5.6.1 asks of recipients.
template <typename F>
void for_each_element(std::string_view list, F&& f) {
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view element = trim(list.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

// uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2): the Host field and
// CONNECT's authority-form. No userinfo. `need_port`: the port must be there.
bool is_authority(std::string_view s, bool need_host_and_port) noexcept {
  std::size_t i = 0;
  if (!s.empty() && s[0] == '[') { // IP-literal: IPv6address or IPvFuture
    const std::size_t close = s.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (std::size_t k = 1; k < close; ++k)
      if (!is_unreserved(s[k]) && !is_sub_delim(s[k]) && s[k] != ':') return false;
    i = close + 1;
  } else {
    while (i < s.size() && s[i] != ':') {
      if (s[i] == '%') {
        if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) return false;
        i += 3;
        continue;
      }
      if (!is_unreserved(s[i]) && !is_sub_delim(s[i])) return false;
      ++i;
    }
    if (need_host_and_port && i == 0) return false;
  }
  if (i == s.size()) return !need_host_and_port;
  if (s[i] != ':') return false;
  const std::string_view port = s.substr(i + 1);
  if (need_host_and_port && port.empty()) return false;
  for (char c : port)
    if (!is_digit(c)) return false;
  return true;
}

// absolute-form: scheme "://" ... (RFC 3986 scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )).
bool is_absolute_form(std::string_view t) noexcept {
  const std::size_t colon = t.find("://");
  if (colon == std::string_view::npos || colon == 0 || !is_alpha(t[0])) return false;
  for (std::size_t i = 1; i < colon; ++i)
    if (!is_alpha(t[i]) && !is_digit(t[i]) && t[i] != '+' && t[i] != '-' && t[i] != '.') return false;
  return true;
}

// quoted-string from s[i] == '"'; advances i past the closing quote.
bool skip_quoted_string(std::string_view s, std::size_t& i) noexcept {
  ++i;
  while (i < s.size()) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (s[i] == '"') {
      ++i;
      return true;
    }
    if (s[i] == '\\') {
      if (i + 1 >= s.size()) return false;
      const auto q = static_cast<unsigned char>(s[i + 1]);
      if (q != '\t' && (q < 0x20 || q == 0x7f)) return false;
      i += 2;
      continue;
    }
    if (u != '\t' && (u < 0x20 || u == 0x7f)) return false;
    ++i;
  }
  return false;
}

} // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<std::string_view> request::find(std::string_view name) const {
  for (const header& h : headers)
    if (iequals(h.name, name)) return std::string_view(h.value);
  return std::nullopt;
}

bool request::has_connection_option(std::string_view option) const {
  bool found = false;
  for (const header& h : headers)
    if (iequals(h.name, "Connection"))
      for_each_element(h.value, [&](std::string_view e) { found = found || iequals(e, option); });
  return found;
}

bool request::keep_alive() const {
  if (has_connection_option("close")) return false;
  return version_minor >= 1 || has_connection_option("keep-alive");
}

void parser::feed(std::string_view bytes) {
  if (!stopped()) buffer_.append(bytes);
}

bool parser::fail(int status, std::string reason) {
  error_ = parse_error{status, std::move(reason)};
  state_ = state::failed;
  buffer_.clear();
  buffer_.shrink_to_fit();
  consumed_ = scan_ = held_ = 0;
  current_ = {};
  return false;
}

// The next CRLF-terminated line, from consumed_, at most `max` bytes with its
// CRLF. A bare LF or CR, or a control character other than HTAB, fails at once
// (never after waiting for more bytes); a line over `max` fails with
// `status_if_long` as soon as it is known to be too long.
bool parser::next_line(std::size_t max, int status_if_long, std::string_view& line) {
  for (std::size_t i = scan_; i < buffer_.size(); ++i) {
    // Checked for every byte, the LF too: a line ending one byte past the
    // budget would otherwise pass, and the budget left would wrap around.
    if (i + 1 - consumed_ > max) {
      return fail(status_if_long, status_if_long == 431 ? "request header fields too large" : "chunk line too long");
    }
    const char c = buffer_[i];
    const bool after_cr = i > consumed_ && buffer_[i - 1] == '\r';
    if (c == '\n') {
      if (!after_cr) return fail(400, "bare LF: lines end with CRLF");
      line = std::string_view(buffer_).substr(consumed_, i - 1 - consumed_);
      consumed_ = scan_ = i + 1;
      return true;
    }
    if (after_cr) return fail(400, "bare CR");
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\r') || u == 0x7f) return fail(400, "control character");
  }
  scan_ = buffer_.size();
  return false;
}

bool parser::request_line(std::string_view line) {
  // method SP request-target SP HTTP-version, nothing else (RFC 9112 §3).
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return fail(400, "malformed request line");
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return fail(400, "malformed request line");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return fail(400, "malformed method");
  if (target.empty()) return fail(400, "malformed request line");
  for (char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return fail(400, "malformed request target");
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !is_digit(version[5]) || version[6] != '.' ||
      !is_digit(version[7])) {
    return fail(400, "malformed HTTP version");
  }
  if (version[5] != '1' || version[7] > '1') return fail(505, "HTTP version not supported");

  const bool connect = method == "CONNECT";
  if (connect) {
    if (!is_authority(target, true)) return fail(400, "CONNECT needs an authority-form target (host:port)");
  } else if (target[0] == '/' || is_absolute_form(target)) {
    // origin-form or absolute-form
  } else if (target == "*") {
    if (method != "OPTIONS") return fail(400, "asterisk-form is for OPTIONS only");
  } else {
    return fail(400, "malformed request target");
  }
  current_.method.assign(method);
  current_.target.assign(target);
  current_.version_minor = version[7] - '0';
  return true;
}

bool parser::field_line(std::string_view line, std::vector<header>& into) {
  // field-name ":" OWS field-value OWS (RFC 9112 §5); no obs-fold.
  if (is_ows(line[0])) return fail(400, "obsolete line folding or leading whitespace");
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return fail(400, "malformed header field");
  const std::string_view name = line.substr(0, colon);
  if (!is_token(name)) return fail(400, "malformed header field name");
  // The line scanner already refused CR, LF, NUL and the other controls.
  if (++fields_ > limits_.max_headers) return fail(431, "too many header fields");
  into.push_back({std::string(name), std::string(trim(line.substr(colon + 1)))});
  return true;
}

// Framing and the fields the server must check (RFC 9112 §6, RFC 9110 §7.2).
bool parser::head_complete() {
  std::size_t hosts = 0;
  bool have_length = false, have_te = false;
  std::uint64_t length = 0;
  std::vector<std::string_view> codings;
  bool bad_list = false;
  for (const header& h : current_.headers) {
    if (iequals(h.name, "Host")) {
      ++hosts;
      if (!is_authority(h.value, false)) return fail(400, "malformed Host");
    } else if (iequals(h.name, "Content-Length")) {
      bool any = false;
      for_each_element(h.value, [&](std::string_view e) {
        any = true;
        std::uint64_t v = 0;
        const auto [p, ec] = std::from_chars(e.data(), e.data() + e.size(), v);
        if (!is_digit(e[0]) || ec != std::errc{} || p != e.data() + e.size() || (have_length && v != length)) {
          bad_list = true;
        }
        have_length = true;
        length = v;
      });
      if (!any || bad_list) return fail(400, "malformed or conflicting Content-Length");
    } else if (iequals(h.name, "Transfer-Encoding")) {
      have_te = true;
      for_each_element(h.value, [&](std::string_view e) { codings.push_back(e); });
    }
  }
  if (current_.version_minor == 1 && hosts == 0) return fail(400, "HTTP/1.1 request without Host");
  if (hosts > 1) return fail(400, "more than one Host");

  bool chunked = false;
  if (have_te) {
    if (current_.version_minor == 0) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (have_length) return fail(400, "both Transfer-Encoding and Content-Length");
    if (codings.empty()) return fail(400, "empty Transfer-Encoding");
    for (std::size_t i = 0; i < codings.size(); ++i) {
      const std::string_view coding = codings[i];
      const std::string_view name = trim(coding.substr(0, coding.find(';')));
      if (!is_token(name)) return fail(400, "malformed Transfer-Encoding");
      if (!iequals(name, "chunked")) return fail(501, "transfer coding not supported");
      if (name.size() != coding.size()) return fail(501, "chunked takes no parameters");
      if (i + 1 != codings.size()) return fail(501, "chunked must be the last transfer coding");
    }
    chunked = true;
  }

  current_.upgrade = current_.method == "CONNECT" ||
                     (current_.find("Upgrade").has_value() && current_.has_connection_option("upgrade"));
  if (chunked) {
    state_ = state::chunk_line;
  } else if (have_length && length > 0) {
    if (length > limits_.max_body_bytes) return fail(413, "request body too large");
    remaining_ = length;
    state_ = state::body;
  }
  return true;
}

bool parser::chunk_size_line(std::string_view line) {
  // chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1); the size is hex, no sign,
  // no prefix, no whitespace before it.
  const std::uint64_t room = limits_.max_body_bytes - current_.body.size();
  std::uint64_t size = 0;
  std::size_t i = 0;
  for (; i < line.size() && hex_value(line[i]) >= 0; ++i) {
    const auto d = static_cast<std::uint64_t>(hex_value(line[i]));
    if (size > (std::numeric_limits<std::uint64_t>::max() - d) / 16) return fail(413, "request body too large");
    size = size * 16 + d;
    if (size > room) return fail(413, "request body too large");
  }
  if (i == 0) return fail(400, "malformed chunk size");
  // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
  while (true) {
    const std::size_t before = i;
    while (i < line.size() && is_ows(line[i])) ++i;
    if (i == line.size()) {
      if (i != before) return fail(400, "whitespace at the end of a chunk line");
      break;
    }
    if (line[i] != ';') return fail(400, "malformed chunk size");
    ++i;
    while (i < line.size() && is_ows(line[i])) ++i;
    const std::size_t name_start = i;
    while (i < line.size() && is_token_char(line[i])) ++i;
    if (i == name_start) return fail(400, "malformed chunk extension");
    const std::size_t after_name = i;
    while (i < line.size() && is_ows(line[i])) ++i;
    if (i < line.size() && line[i] == '=') {
      ++i;
      while (i < line.size() && is_ows(line[i])) ++i;
      if (i < line.size() && line[i] == '"') {
        if (!skip_quoted_string(line, i)) return fail(400, "malformed chunk extension");
      } else {
        const std::size_t value_start = i;
        while (i < line.size() && is_token_char(line[i])) ++i;
        if (i == value_start) return fail(400, "malformed chunk extension");
      }
    } else {
      i = after_name;
    }
  }
  remaining_ = size;
  state_ = size == 0 ? state::trailers : state::chunk_data;
  return true;
}

std::optional<request> parser::finish() {
  request r = std::move(current_);
  current_ = {};
  held_ = head_bytes_ = fields_ = 0;
  remaining_ = 0;
  have_request_line_ = false;
  resume_keep_alive_ = r.keep_alive();
  if (r.upgrade) {
    state_ = state::paused;
  } else if (!resume_keep_alive_) {
    close();
  } else {
    state_ = state::head;
  }
  return r;
}

void parser::close() {
  // Whatever follows a request that closes the connection is never a request.
  state_ = state::closed;
  buffer_.clear();
  buffer_.shrink_to_fit();
  consumed_ = scan_ = 0;
}

std::string parser::take_remaining() {
  if (state_ != state::paused) return {};
  std::string rest = buffer_.substr(consumed_);
  close();
  return rest;
}

void parser::resume() noexcept {
  if (state_ != state::paused) return;
  if (resume_keep_alive_) {
    state_ = state::head;
  } else {
    close();
  }
}

void parser::compact() {
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
  } else if (consumed_ > 4096 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
  } else {
    return;
  }
  scan_ -= consumed_;
  consumed_ = 0;
}

std::optional<request> parser::next() {
  std::optional<request> r = step();
  compact();
  return r;
}

std::optional<request> parser::step() {
  std::string_view line;
  for (;;) {
    switch (state_) {
    case state::head:
      if (!next_line(limits_.max_header_bytes - head_bytes_, 431, line)) return std::nullopt;
      head_bytes_ += line.size() + 2;
      held_ = head_bytes_;
      if (line.empty()) {
        if (!have_request_line_) continue; // empty lines before a request are skipped (RFC 9112 §2.2)
        if (!head_complete()) return std::nullopt;
        if (state_ == state::head) return finish();
        continue;
      }
      if (!have_request_line_) {
        if (!request_line(line)) return std::nullopt;
        have_request_line_ = true;
      } else if (!field_line(line, current_.headers)) {
        return std::nullopt;
      }
      continue;
    case state::body:
    case state::chunk_data: {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, buffer_.size() - consumed_));
      current_.body.append(buffer_, consumed_, n);
      consumed_ += n;
      scan_ = consumed_;
      held_ += n;
      remaining_ -= n;
      if (remaining_ > 0) return std::nullopt;
      if (state_ == state::body) return finish();
      state_ = state::chunk_end;
      continue;
    }
    case state::chunk_end: {
      const std::size_t have = buffer_.size() - consumed_;
      if ((have >= 1 && buffer_[consumed_] != '\r') || (have >= 2 && buffer_[consumed_ + 1] != '\n')) {
        fail(400, "chunk data not followed by CRLF");
        return std::nullopt;
      }
      if (have < 2) return std::nullopt;
      consumed_ += 2;
      scan_ = consumed_;
      state_ = state::chunk_line;
      continue;
    }
    case state::chunk_line:
      if (!next_line(limits_.max_chunk_line_bytes, 400, line)) return std::nullopt;
      if (!chunk_size_line(line)) return std::nullopt;
      continue;
    case state::trailers:
      if (!next_line(limits_.max_header_bytes - head_bytes_, 431, line)) return std::nullopt;
      head_bytes_ += line.size() + 2;
      held_ += line.size() + 2;
      if (line.empty()) return finish();
      if (!field_line(line, current_.trailers)) return std::nullopt;
      continue;
    case state::paused:
    case state::closed:
    case state::failed:
      return std::nullopt;
    }
  }
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
  case 100: return "Continue";
  case 101: return "Switching Protocols";
  case 200: return "OK";
  case 204: return "No Content";
  case 400: return "Bad Request";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 413: return "Content Too Large";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 503: return "Service Unavailable";
  case 505: return "HTTP Version Not Supported";
  default: return "Unknown";
  }
}

void write_response(std::string& out, int status, std::string_view body, bool keep_alive,
                    std::string_view content_type) {
  char num[24];
  out.append("HTTP/1.1 ");
  auto r = std::to_chars(num, num + sizeof num, status);
  out.append(num, r.ptr);
  out.push_back(' ');
  out.append(reason_phrase(status));
  out.append("\r\nContent-Type: ");
  out.append(content_type);
  out.append("\r\nContent-Length: ");
  r = std::to_chars(num, num + sizeof num, body.size());
  out.append(num, r.ptr);
  out.append(keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
  out.append(body);
}

} // namespace otter::net::http
