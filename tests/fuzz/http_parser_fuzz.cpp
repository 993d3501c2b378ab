// libFuzzer harness for otter::net::http::parser.
//
// Each input is parsed three ways — whole, in pieces cut at points derived
// from the input, and (for short inputs) byte by byte — and the results must
// be identical: the same requests, the same error status. Along the way the
// parser's bounds are checked: what it buffers never exceeds its limits plus
// the piece just fed, and no request carries more than the limits allow.
//
// The first input byte picks small or default limits, so 413 and 431 paths
// are reached with short inputs. docs/fuzzing.md says how to run it.

#include <otter/net/http.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace http = otter::net::http;

namespace {

struct result {
  std::vector<http::request> requests;
  int status = 0;
};

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "http_parser_fuzz: %s\n", what);
  std::abort();
}

bool same_fields(const std::vector<http::header>& a, const std::vector<http::header>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name || a[i].value != b[i].value) return false;
  return true;
}

bool same(const result& a, const result& b) {
  if (a.status != b.status || a.requests.size() != b.requests.size()) return false;
  for (std::size_t i = 0; i < a.requests.size(); ++i) {
    const http::request& x = a.requests[i];
    const http::request& y = b.requests[i];
    if (x.method != y.method || x.target != y.target || x.version_minor != y.version_minor || x.body != y.body ||
        x.upgrade != y.upgrade || !same_fields(x.headers, y.headers) || !same_fields(x.trailers, y.trailers)) {
      return false;
    }
  }
  return true;
}

result parse(std::string_view input, const std::vector<std::size_t>& cuts, const http::limits& l) {
  http::parser p(l);
  result out;
  const std::size_t bound = l.max_header_bytes + l.max_body_bytes + l.max_chunk_line_bytes;
  std::size_t at = 0;
  auto piece = [&](std::size_t end) {
    const std::string_view bytes = input.substr(at, end - at);
    at = end;
    p.feed(bytes);
    if (!p.paused() && p.buffered() > bound + bytes.size()) broken("buffered() over the limits plus one read");
    for (int guard = 0; guard < 1'000'000; ++guard) {
      auto r = p.next();
      if (!r) {
        if (!p.paused()) break;
        p.resume(); // an upgrade refused: parsing goes on
        continue;
      }
      if (r->body.size() > l.max_body_bytes) broken("a body over max_body_bytes");
      if (r->headers.size() + r->trailers.size() > l.max_headers) broken("more fields than max_headers");
      out.requests.push_back(std::move(*r));
    }
    if (!p.paused() && p.buffered() > bound) broken("buffered() over the limits after parsing");
    if (p.error() && p.buffered() != 0) broken("bytes kept after an error");
  };
  for (std::size_t cut : cuts) piece(cut);
  piece(input.size());
  out.status = p.error() ? p.error()->status : 0;
  if (out.status != 0 && out.status != 400 && out.status != 413 && out.status != 431 && out.status != 501 &&
      out.status != 505) {
    broken("an unexpected status");
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  http::limits l;
  if (data[0] & 1) {
    l.max_header_bytes = 256;
    l.max_headers = 8;
    l.max_body_bytes = 64;
    l.max_chunk_line_bytes = 32;
  }
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  const result whole = parse(input, {}, l);

  // Cut points from the input itself (FNV-1a, then xorshift), so a crash
  // reproduces from the input alone.
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : input) h = (h ^ c) * 1099511628211ull;
  std::vector<std::size_t> cuts;
  std::size_t at = 0;
  while (!input.empty()) {
    h ^= h << 13;
    h ^= h >> 7;
    h ^= h << 17;
    at += 1 + h % 64;
    if (at >= input.size()) break;
    cuts.push_back(at);
  }
  if (!same(whole, parse(input, cuts, l))) broken("pieces parse differently from the whole");

  if (input.size() <= 2048) {
    std::vector<std::size_t> each;
    for (std::size_t i = 1; i < input.size(); ++i) each.push_back(i);
    if (!same(whole, parse(input, each, l))) broken("bytes one by one parse differently from the whole");
  }
  return 0;
}
