#include <otter/net/http.hpp>

#include <charconv>

namespace otter::net::http {

namespace {

bool is_token_char(char c) noexcept {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
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

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool has_control(std::string_view s) noexcept {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return true;
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

bool request::keep_alive() const {
  if (auto c = find("Connection")) {
    if (iequals(*c, "close")) return false;
    if (iequals(*c, "keep-alive")) return true;
  }
  return version_minor >= 1;
}

bool parser::fail(int status, std::string reason) {
  error_ = parse_error{status, std::move(reason)};
  return false;
}

std::optional<request> parser::next() {
  if (error_) return std::nullopt;
  const std::string_view all(buffer_);
  const std::string_view pending = all.substr(consumed_);
  // Headers end at the first empty line.
  const std::size_t end = pending.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (pending.size() > limits_.max_header_bytes) fail(431, "request header fields too large");
    return std::nullopt;
  }
  if (end + 4 > limits_.max_header_bytes) {
    fail(431, "request header fields too large");
    return std::nullopt;
  }
  std::string_view head = pending.substr(0, end);

  request r;
  // Request line: METHOD SP target SP HTTP/1.x
  const std::size_t line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    fail(400, "malformed request line");
    return std::nullopt;
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method) || target.empty() || has_control(target)) {
    fail(400, "malformed request line");
    return std::nullopt;
  }
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || version[7] < '0' || version[7] > '9') {
    if (version.substr(0, 5) == "HTTP/") {
      fail(505, "HTTP version not supported");
    } else {
      fail(400, "malformed request line");
    }
    return std::nullopt;
  }
  r.method.assign(method);
  r.target.assign(target);
  r.version_minor = version[7] - '0';

  // Header fields.
  std::string_view rest = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  while (!rest.empty()) {
    const std::size_t eol = rest.find("\r\n");
    const std::string_view field = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 2);
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos || !is_token(field.substr(0, colon))) {
      fail(400, "malformed header field");
      return std::nullopt;
    }
    const std::string_view value = trim(field.substr(colon + 1));
    if (has_control(value)) {
      fail(400, "malformed header field");
      return std::nullopt;
    }
    if (r.headers.size() >= limits_.max_headers) {
      fail(431, "too many header fields");
      return std::nullopt;
    }
    r.headers.push_back({std::string(field.substr(0, colon)), std::string(value)});
  }

  // A body, by Content-Length (chunked request bodies are not supported).
  std::size_t body_length = 0;
  if (auto te = r.find("Transfer-Encoding")) {
    (void)te;
    fail(501, "transfer-encoding in requests is not supported");
    return std::nullopt;
  }
  if (auto cl = r.find("Content-Length")) {
    const auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), body_length);
    if (ec != std::errc{} || p != cl->data() + cl->size()) {
      fail(400, "malformed content-length");
      return std::nullopt;
    }
    if (body_length > limits_.max_body_bytes) {
      fail(413, "request body too large");
      return std::nullopt;
    }
  }
  if (pending.size() < end + 4 + body_length) return std::nullopt; // the body is still coming
  r.body.assign(pending.substr(end + 4, body_length));
  consumed_ += end + 4 + body_length;
  // Drop what has been parsed once it is most of the buffer.
  if (consumed_ > 4096 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return r;
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
  case 200: return "OK";
  case 204: return "No Content";
  case 400: return "Bad Request";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 413: return "Payload Too Large";
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
  char num[16];
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
