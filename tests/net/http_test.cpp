#include <otter/net/http.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace http = otter::net::http;

namespace {

// What a parser made of some bytes: the requests, in order, and how it ended.
struct outcome {
  std::vector<http::request> requests;
  int status = 0; // the error's status, 0 without error
  bool paused = false;
};

bool same(const http::header& a, const http::header& b) { return a.name == b.name && a.value == b.value; }
bool same(const http::request& a, const http::request& b) {
  return a.method == b.method && a.target == b.target && a.version_minor == b.version_minor && a.body == b.body &&
         a.upgrade == b.upgrade && std::equal(a.headers.begin(), a.headers.end(), b.headers.begin(), b.headers.end(),
                                              [](auto& x, auto& y) { return same(x, y); }) &&
         std::equal(a.trailers.begin(), a.trailers.end(), b.trailers.begin(), b.trailers.end(),
                    [](auto& x, auto& y) { return same(x, y); });
}
bool same(const outcome& a, const outcome& b) {
  return a.status == b.status && a.paused == b.paused &&
         std::equal(a.requests.begin(), a.requests.end(), b.requests.begin(), b.requests.end(),
                    [](auto& x, auto& y) { return same(x, y); });
}

// Feeds `raw` cut at `cuts` (sorted offsets), taking requests out after each piece.
outcome run(std::string_view raw, const std::vector<std::size_t>& cuts, http::limits l = {}) {
  http::parser p(l);
  outcome o;
  std::size_t at = 0;
  auto drain = [&] {
    while (auto r = p.next()) o.requests.push_back(std::move(*r));
  };
  for (std::size_t cut : cuts) {
    p.feed(raw.substr(at, cut - at));
    at = cut;
    drain();
  }
  p.feed(raw.substr(at));
  drain();
  o.status = p.error() ? p.error()->status : 0;
  o.paused = p.paused();
  return o;
}

outcome whole(std::string_view raw, http::limits l = {}) { return run(raw, {}, l); }

int status_of(std::string_view raw, http::limits l = {}) { return whole(raw, l).status; }

std::vector<std::size_t> every_byte(std::size_t n) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < n; ++i) cuts.push_back(i);
  return cuts;
}

std::vector<std::size_t> random_cuts(std::size_t n, std::mt19937& rng) {
  std::vector<std::size_t> cuts;
  if (n < 2) return cuts;
  std::uniform_int_distribution<std::size_t> pos(1, n - 1);
  const std::size_t count = std::uniform_int_distribution<std::size_t>(1, std::min<std::size_t>(n - 1, 12))(rng);
  for (std::size_t i = 0; i < count; ++i) cuts.push_back(pos(rng));
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  return cuts;
}

} // namespace

TEST_CASE("http - a complete request is parsed with its headers", "[http]") {
  http::parser p;
  p.feed("GET /hello?x=1 HTTP/1.1\r\nHost: example\r\nX-Thing:  spaced value \r\n\r\n");
  auto r = p.next();
  REQUIRE(r);
  CHECK(r->method == "GET");
  CHECK(r->target == "/hello?x=1");
  CHECK(r->version_minor == 1);
  CHECK(r->find("host") == "example");
  CHECK(r->find("X-THING") == "spaced value");
  CHECK(r->keep_alive());
  CHECK_FALSE(r->upgrade);
  CHECK_FALSE(p.next());
  CHECK(p.buffered() == 0);
}

TEST_CASE("http - a request split across many reads is parsed once complete", "[http]") {
  const std::string raw = "POST /submit HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
  http::parser p;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    CHECK_FALSE(p.next());
    p.feed(raw.substr(i, 1));
  }
  auto r = p.next();
  REQUIRE(r);
  CHECK(r->body == "hello");
}

TEST_CASE("http - pipelined requests come out in order", "[http]") {
  http::parser p;
  p.feed("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
         "POST /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nokGET /4 HT");
  auto a = p.next();
  auto b = p.next();
  auto c = p.next();
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(a->target == "/1");
  CHECK(b->target == "/2");
  CHECK(c->target == "/3");
  CHECK(c->body == "ok");
  CHECK_FALSE(p.next()); // /4 is incomplete
  p.feed("TP/1.1\r\nHost: a\r\n\r\n");
  auto d = p.next();
  REQUIRE(d);
  CHECK(d->target == "/4");
}

TEST_CASE("http - keep-alive follows the version and the Connection header", "[http]") {
  auto first = [](std::string_view raw) {
    auto o = whole(raw);
    REQUIRE(o.requests.size() == 1);
    return o.requests[0].keep_alive();
  };
  CHECK_FALSE(first("GET / HTTP/1.0\r\n\r\n"));
  CHECK(first("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  CHECK(first("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK_FALSE(first("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
}

TEST_CASE("http - Connection is a case-insensitive token list and close wins", "[http]") {
  auto first = [](std::string_view raw) {
    auto o = whole(raw);
    REQUIRE(o.requests.size() == 1);
    return o.requests[0].keep_alive();
  };
  CHECK_FALSE(first("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n"));
  CHECK_FALSE(first("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade,CLOSE\r\n\r\n"));
  CHECK_FALSE(first("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nconnection: Close\r\n\r\n"));
  CHECK_FALSE(first("GET / HTTP/1.0\r\nConnection: Keep-Alive, close\r\n\r\n"));
  CHECK(first("GET / HTTP/1.0\r\nConnection: te, KEEP-ALIVE\r\n\r\n"));
  CHECK(first("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed, x-close\r\n\r\n"));
}

TEST_CASE("http - after a request that closes the connection nothing more is parsed", "[http]") {
  for (const char* raw : {"GET /1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
                          "GET /1 HTTP/1.0\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
                          "GET /1 HTTP/1.0\r\n\r\nthis is not a request\r\n\r\n"}) {
    INFO(raw);
    http::parser p;
    p.feed(raw);
    auto r = p.next();
    REQUIRE(r);
    CHECK(r->target == "/1");
    CHECK_FALSE(p.next());
    CHECK_FALSE(p.error());
    CHECK(p.stopped());
    CHECK(p.buffered() == 0);
    p.feed("GET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_FALSE(p.next());
    CHECK(p.buffered() == 0);
  }
}

TEST_CASE("http - malformed request lines are refused with 400", "[http]") {
  for (const char* raw : {"GARBAGE\r\n\r\n", "GET /x\r\n\r\n", "GET  /x HTTP/1.1\r\nHost: a\r\n\r\n",
                          "GET /x  HTTP/1.1\r\nHost: a\r\n\r\n", "GET /x HTTP/1.1 \r\nHost: a\r\n\r\n",
                          " GET /x HTTP/1.1\r\nHost: a\r\n\r\n", "GET /x HTTP/1.1 extra\r\nHost: a\r\n\r\n",
                          "GET\t/x HTTP/1.1\r\nHost: a\r\n\r\n", "GET /x\tHTTP/1.1\r\nHost: a\r\n\r\n",
                          "GET /x HTTP/1.1\t\r\nHost: a\r\n\r\n", "GET /x\vHTTP/1.1\r\nHost: a\r\n\r\n",
                          "GET /x http/1.1\r\nHost: a\r\n\r\n", "GET /x HTTP/1.10\r\nHost: a\r\n\r\n",
                          "GET /x HTTP/11\r\nHost: a\r\n\r\n", "GET /x HTTP/1.\r\nHost: a\r\n\r\n",
                          "GET /x HTTP/1.1x\r\nHost: a\r\n\r\n", "GET /x FTP/1.1\r\nHost: a\r\n\r\n",
                          "GET /x HTTP/a.b\r\nHost: a\r\n\r\n"}) {
    INFO(raw);
    CHECK(status_of(raw) == 400);
  }
}

TEST_CASE("http - versions other than HTTP/1.0 and HTTP/1.1 are refused with 505", "[http]") {
  for (const char* raw : {"GET / HTTP/2.0\r\n\r\n", "GET / HTTP/0.9\r\n\r\n", "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
                          "GET / HTTP/3.1\r\n\r\n", "GET / HTTP/9.9\r\n"}) {
    INFO(raw);
    CHECK(status_of(raw) == 505);
  }
}

TEST_CASE("http - the method must be a token", "[http]") {
  for (const char* raw : {"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", "GE\"T / HTTP/1.1\r\nHost: a\r\n\r\n",
                          "G\xc3\xa9T / HTTP/1.1\r\nHost: a\r\n\r\n", "GET: / HTTP/1.1\r\nHost: a\r\n\r\n"}) {
    INFO(raw);
    CHECK(status_of(raw) == 400);
  }
  auto o = whole("M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(o.status == 400); // asterisk-form is for OPTIONS only
  o = whole("PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n");
  REQUIRE(o.requests.size() == 1);
  CHECK(o.requests[0].method == "PURGE");
}

TEST_CASE("http - the request target must fit the method's form and hold no bad bytes", "[http]") {
  auto accepted = [](std::string_view raw) {
    auto o = whole(raw);
    return o.status == 0 && o.requests.size() == 1;
  };
  CHECK(accepted("GET /a/b?c=d&e=%20 HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK(accepted("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK(accepted("GET http://example.com:8080/x HTTP/1.1\r\nHost: example.com\r\n\r\n"));
  CHECK(accepted("DELETE https://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n"));
  CHECK(accepted("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"));
  CHECK(accepted("CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n"));
  for (const char* raw :
       {"GET * HTTP/1.1\r\nHost: a\r\n\r\n", "GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n",
        "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", "CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n",
        "CONNECT example.com: HTTP/1.1\r\nHost: a\r\n\r\n", "CONNECT http://a:1/ HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET x HTTP/1.1\r\nHost: a\r\n\r\n", "GET ://x HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET 1http://x/ HTTP/1.1\r\nHost: a\r\n\r\n", "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /\x80 HTTP/1.1\r\nHost: a\r\n\r\n", "GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n"}) {
    INFO(raw);
    CHECK(status_of(raw) == 400);
  }
}

TEST_CASE("http - header names must be tokens, with no whitespace before the colon", "[http]") {
  for (const char* raw : {"GET /x HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", "GET /x HTTP/1.1\r\nHost: a\r\nBad Name: v\r\n\r\n",
                          "GET /x HTTP/1.1\r\nHost: a\r\nName : v\r\n\r\n", "GET /x HTTP/1.1\r\nHost: a\r\nName\t: v\r\n\r\n",
                          "GET /x HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", "GET /x HTTP/1.1\r\nHost: a\r\nN(a): v\r\n\r\n",
                          "GET /x HTTP/1.1\r\nHost: a\r\nN\xc3\xa9: v\r\n\r\n"}) {
    INFO(raw);
    CHECK(status_of(raw) == 400);
  }
}

TEST_CASE("http - obs-fold and whitespace before the first header are refused with 400", "[http]") {
  CHECK(status_of("GET /x HTTP/1.1\r\nHost: a\r\nX: one\r\n two\r\n\r\n") == 400);
  CHECK(status_of("GET /x HTTP/1.1\r\nHost: a\r\nX: one\r\n\ttwo\r\n\r\n") == 400);
  CHECK(status_of("GET /x HTTP/1.1\r\n Host: a\r\n\r\n") == 400);
}

TEST_CASE("http - field values hold no controls but HTAB; obs-text is kept", "[http]") {
  for (const char* raw : {"GET /x HTTP/1.1\r\nHost: a\r\nH: a\x01z\r\n\r\n", "GET /x HTTP/1.1\r\nHost: a\r\nH: a\x7fz\r\n\r\n",
                          "GET /x HTTP/1.1\r\nHost: a\r\nH: a\x1bz\r\n\r\n"}) {
    INFO(raw);
    CHECK(status_of(raw) == 400);
  }
  static constexpr char nul_raw[] = "GET /x HTTP/1.1\r\nHost: a\r\nH: a\0z\r\n\r\n";
  const std::string with_nul(nul_raw, sizeof nul_raw - 1);
  CHECK(status_of(with_nul) == 400);
  auto o = whole("GET /x HTTP/1.1\r\nHost: a\r\nH:\ta\tb\xe9\t\r\n\r\n");
  REQUIRE(o.requests.size() == 1);
  CHECK(o.requests[0].find("H") == "a\tb\xe9");
}

TEST_CASE("http - a bare LF anywhere in the head is refused with 400 at once", "[http]") {
  http::limits l;
  l.max_header_bytes = 1 << 20;
  for (const char* raw : {"GET / HTTP/1.1\n", "GET / HTTP/1.1\r\nHost: a\n", "GET / HTTP/1.1\r\nHost: a\r\n\n",
                          "\nGET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: a\r\nX: \n"}) {
    INFO(raw);
    http::parser p(l);
    p.feed(raw);
    CHECK_FALSE(p.next());
    REQUIRE(p.error());
    CHECK(p.error()->status == 400);
  }
}

TEST_CASE("http - a bare CR in the head is refused with 400", "[http]") {
  for (const char* raw : {"GET / HTTP/1.1\rHost: a\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n",
                          "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"}) {
    INFO(raw);
    CHECK(status_of(raw) == 400);
  }
}

TEST_CASE("http - empty lines before a request line are skipped, within the header budget", "[http]") {
  auto o = whole("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
  REQUIRE(o.requests.size() == 2);
  CHECK(o.requests[1].target == "/2");
  CHECK(o.status == 0);
  http::limits l;
  l.max_header_bytes = 64;
  http::parser p(l);
  std::string empties;
  for (int i = 0; i < 40; ++i) empties += "\r\n";
  p.feed(empties);
  CHECK_FALSE(p.next());
  REQUIRE(p.error());
  CHECK(p.error()->status == 431);
}

TEST_CASE("http - Host is required in HTTP/1.1, once, and must be an authority", "[http]") {
  CHECK(status_of("GET / HTTP/1.1\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
  for (const char* host : {"a b", "user@a", "a/b", "a:8o", "[::1", "a\"b", "a%zz", "a{b}", "a:1:2", "a\\b"}) {
    INFO(host);
    CHECK(status_of(std::string("GET / HTTP/1.1\r\nHost: ") + host + "\r\n\r\n") == 400);
  }
  for (const char* host : {"", "a", "example.com:8080", "127.0.0.1", "[::1]:80", "[v1.x]", "a%20b", "a-b_c~d.e!$&'()*+,;=", "a:"}) {
    INFO(host);
    auto o = whole(std::string("GET / HTTP/1.1\r\nHost: ") + host + "\r\n\r\n");
    CHECK(o.status == 0);
    CHECK(o.requests.size() == 1);
  }
  CHECK(whole("GET / HTTP/1.0\r\n\r\n").requests.size() == 1);
}

TEST_CASE("http - Content-Length must be digits, and copies must agree", "[http]") {
  for (const char* cl : {"12abc", "-1", "+1", "1 2", "", " ", "0x10", "1.0", "18446744073709551616",
                         "99999999999999999999999", "5, 6", "5,6", "5\r\nContent-Length: 6", ","}) {
    INFO(cl);
    CHECK(status_of(std::string("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ") + cl + "\r\n\r\nhello!") == 400);
  }
  for (const char* cl : {"5", "005", "5, 5", "5,5", "5\r\nContent-Length: 5", " 5 "}) {
    INFO(cl);
    auto o = whole(std::string("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ") + cl + "\r\n\r\nhello");
    CHECK(o.status == 0);
    REQUIRE(o.requests.size() == 1);
    CHECK(o.requests[0].body == "hello");
  }
}

TEST_CASE("http - a body over max_body_bytes is refused with 413", "[http]") {
  http::limits l;
  l.max_body_bytes = 10;
  CHECK(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", l) == 413);
  CHECK(whole("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", l).requests.size() == 1);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n", l) == 413);
  CHECK(whole("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n4\r\n6789\r\n0\r\n\r\n", l)
            .requests.size() == 1);
}

TEST_CASE("http - Transfer-Encoding with Content-Length is refused with 400", "[http]") {
  CHECK(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == 400);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n") == 400);
}

TEST_CASE("http - Transfer-Encoding in an HTTP/1.0 request is refused with 400", "[http]") {
  CHECK(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == 400);
}

TEST_CASE("http - transfer codings other than a final chunked are refused with 501", "[http]") {
  for (const char* te : {"gzip", "identity", "xchunked", "chunked, gzip", "chunked\r\nTransfer-Encoding: gzip",
                         "chunked;q=1", "x"}) {
    INFO(te);
    CHECK(status_of(std::string("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ") + te + "\r\n\r\n0\r\n\r\n") == 501);
  }
  for (const char* te : {"", ",", "chun\"ked", "chunked, chunked"}) {
    INFO(te);
    const int s = status_of(std::string("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ") + te + "\r\n\r\n0\r\n\r\n");
    CHECK((s == 400 || s == 501));
  }
}

TEST_CASE("http - chunked bodies are decoded, with extensions and trailers", "[http]") {
  auto o = whole("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n");
  CHECK(o.status == 501);
  o = whole("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tChunked\r\n\r\n"
            "5\r\nhello\r\n"
            "7;name=value ; flag;q=\"quoted \\\" ;=\"\r\n, world\r\n"
            "000A\r\n0123456789\r\n"
            "0;last\r\nChecksum: abc\r\nX-More: 1\r\n\r\n"
            "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(o.status == 0);
  REQUIRE(o.requests.size() == 2);
  CHECK(o.requests[0].body == "hello, world0123456789");
  REQUIRE(o.requests[0].trailers.size() == 2);
  CHECK(o.requests[0].trailers[0].name == "Checksum");
  CHECK(o.requests[0].trailers[0].value == "abc");
  CHECK(o.requests[1].target == "/next");
}

TEST_CASE("http - malformed chunk sizes and extensions are refused with 400", "[http]") {
  for (const char* chunks : {"+5\r\nhello\r\n0\r\n\r\n", "0x5\r\nhello\r\n0\r\n\r\n", " 5\r\nhello\r\n0\r\n\r\n",
                             "5 \r\nhello\r\n0\r\n\r\n", "\r\nhello\r\n0\r\n\r\n", "-5\r\nhello\r\n0\r\n\r\n",
                             "5\nhello\r\n0\r\n\r\n", "5\r\nhello\n0\r\n\r\n", "5\r\nhello\r\n0\n\r\n",
                             "5\r\nhello\r\n0\r\n\n", "5;\r\nhello\r\n0\r\n\r\n", "5;a=\r\nhello\r\n0\r\n\r\n",
                             "5;a=\"x\r\nhello\r\n0\r\n\r\n", "5;a b\r\nhello\r\n0\r\n\r\n", "5,\r\nhello\r\n0\r\n\r\n",
                             "g\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXX\r\n0\r\n\r\n", "5\r\nhello\r0\r\n\r\n",
                             "5\r\nhello\r\n0\r\nBad Trailer: x\r\n\r\n", "5\r\nhello\r\n0\r\n obs: fold\r\n\r\n",
                             "5\rhello\r\n0\r\n\r\n"}) {
    INFO(chunks);
    CHECK(status_of(std::string("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") + chunks) == 400);
  }
}

TEST_CASE("http - a huge chunk size is refused with 413, without overflow", "[http]") {
  for (const char* size : {"FFFFFFFFFFFFFFFF", "10000000000000001", "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "100001"}) {
    INFO(size);
    CHECK(status_of(std::string("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") + size + "\r\n") == 413);
  }
  // Leading zeros are only digits.
  auto o = whole("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000000000003\r\nabc\r\n0\r\n\r\n");
  REQUIRE(o.requests.size() == 1);
  CHECK(o.requests[0].body == "abc");
}

TEST_CASE("http - a chunk line longer than max_chunk_line_bytes is refused with 400", "[http]") {
  http::limits l;
  l.max_chunk_line_bytes = 32;
  http::parser p(l);
  p.feed("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;" + std::string(40, 'x'));
  CHECK_FALSE(p.next());
  REQUIRE(p.error());
  CHECK(p.error()->status == 400);
}

TEST_CASE("http - trailer fields count against the header limits", "[http]") {
  http::limits l;
  l.max_headers = 3;
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  CHECK(whole(head + "T: 1\r\n\r\n", l).requests.size() == 1);
  CHECK(status_of(head + "T: 1\r\nU: 2\r\n\r\n", l) == 431);
  http::limits bytes;
  bytes.max_header_bytes = 128;
  CHECK(status_of(head + "T: " + std::string(100, 'x') + "\r\n\r\n", bytes) == 431);
}

TEST_CASE("http - buffered counts the head, the decoded body and the pending bytes", "[http]") {
  http::parser p;
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  p.feed(head);
  CHECK_FALSE(p.next());
  CHECK(p.buffered() == head.size());
  p.feed("a\r\n01234");
  CHECK_FALSE(p.next());
  CHECK(p.buffered() == head.size() + 5);
  p.feed("56789\r\n0\r\n");
  CHECK_FALSE(p.next());
  CHECK(p.buffered() == head.size() + 10);
  p.feed("\r\nGET");
  auto r = p.next();
  REQUIRE(r);
  CHECK(r->body == "0123456789");
  CHECK(p.buffered() == 3);
}

TEST_CASE("http - after CONNECT or an accepted Upgrade the following bytes are handed over", "[http]") {
  SECTION("CONNECT, accepted") {
    http::parser p;
    p.feed("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n\x16\x03\x01 not http");
    auto r = p.next();
    REQUIRE(r);
    CHECK(r->upgrade);
    CHECK(p.paused());
    CHECK_FALSE(p.next());
    p.feed(" more");
    CHECK(p.take_remaining() == "\x16\x03\x01 not http more");
    CHECK(p.stopped());
    CHECK_FALSE(p.next());
  }
  SECTION("Upgrade listed in Connection, refused: HTTP goes on") {
    http::parser p;
    p.feed("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    auto r = p.next();
    REQUIRE(r);
    CHECK(r->upgrade);
    CHECK_FALSE(p.next());
    p.resume();
    auto second = p.next();
    REQUIRE(second);
    CHECK(second->target == "/2");
    CHECK_FALSE(second->upgrade);
  }
  SECTION("Upgrade not listed in Connection is no upgrade") {
    auto o = whole("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n");
    REQUIRE(o.requests.size() == 1);
    CHECK_FALSE(o.requests[0].upgrade);
    CHECK_FALSE(o.paused);
  }
}

TEST_CASE("http - oversized headers are refused with 431, even before they end", "[http]") {
  http::limits l;
  l.max_header_bytes = 256;
  SECTION("one long header, still arriving") {
    http::parser p(l);
    p.feed("GET / HTTP/1.1\r\nX: " + std::string(300, 'a'));
    CHECK_FALSE(p.next());
    REQUIRE(p.error());
    CHECK(p.error()->status == 431);
  }
  SECTION("complete but too big") {
    http::parser p(l);
    p.feed("GET / HTTP/1.1\r\nX: " + std::string(300, 'a') + "\r\n\r\n");
    CHECK_FALSE(p.next());
    REQUIRE(p.error());
    CHECK(p.error()->status == 431);
  }
}

TEST_CASE("http - a head of exactly max_header_bytes is accepted, one byte more is 431", "[http]") {
  http::limits l;
  l.max_header_bytes = 64;
  const std::string start = "GET / HTTP/1.1\r\nHost: a\r\n"; // 25 bytes
  const std::string fits = start + "X: " + std::string(32, 'a') + "\r\n\r\n"; // 25 + 37 + 2
  REQUIRE(fits.size() == 64);
  CHECK(whole(fits, l).requests.size() == 1);
  CHECK(whole(fits, l).status == 0);
  // The LF of the last field is the 65th byte: refused, and the budget does
  // not wrap around for the lines after it.
  const std::string over = start + "X: " + std::string(35, 'a') + "\r\n" + "Y: " + std::string(400, 'b');
  CHECK(status_of(over, l) == 431);
  CHECK(run(over, every_byte(over.size()), l).status == 431);
}

TEST_CASE("http - too many header fields are refused with 431", "[http]") {
  http::limits l;
  l.max_headers = 3;
  CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", l) == 431);
}

TEST_CASE("http - after an error the parser yields nothing more", "[http]") {
  http::parser p;
  p.feed("BAD\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK_FALSE(p.next());
  CHECK_FALSE(p.next());
  CHECK(p.error()->status == 400);
  CHECK(p.stopped());
  CHECK(p.buffered() == 0);
}

TEST_CASE("http - responses carry status, length and connection", "[http]") {
  std::string out;
  http::write_response(out, 200, "hello, world\n", true);
  CHECK(out == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world\n");
  out.clear();
  http::write_response(out, 431, "", false);
  CHECK(out.find("431 Request Header Fields Too Large") != std::string::npos);
  CHECK(out.find("Connection: close") != std::string::npos);
}

namespace {

// A corpus case: "key: value" lines, then a line "---", then the raw bytes
// written with escapes (\r \n \t \\ \xHH); the file's own line breaks after
// "---" are not part of the bytes, so every CR and LF is visible.
struct corpus_case {
  std::string name;
  std::string raw;
  int status = 0;
  std::size_t requests = 0;
  std::vector<std::string> bodies;
  bool paused = false;
  http::limits limits;
};

std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char e = s[++i];
    if (e == 'r') out += '\r';
    else if (e == 'n') out += '\n';
    else if (e == 't') out += '\t';
    else if (e == '0') out += '\0';
    else if (e == 'x' && i + 2 < s.size() + 1) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else out += e;
  }
  return out;
}

corpus_case load(const std::filesystem::path& file) {
  corpus_case c;
  c.name = file.filename().string();
  std::ifstream in(file, std::ios::binary);
  std::string line;
  bool raw = false;
  while (std::getline(in, line)) {
    if (raw) {
      c.raw += unescape(line);
      continue;
    }
    if (line == "---") {
      raw = true;
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const std::size_t colon = line.find(':');
    REQUIRE(colon != std::string::npos);
    const std::string key = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    if (key == "status") c.status = std::stoi(value);
    else if (key == "requests") c.requests = std::stoul(value);
    else if (key == "body") c.bodies.push_back(unescape(value));
    else if (key == "paused") c.paused = value == "yes";
    else if (key == "max_body_bytes") c.limits.max_body_bytes = std::stoul(value);
    else if (key == "max_header_bytes") c.limits.max_header_bytes = std::stoul(value);
    else FAIL("unknown key " << key << " in " << c.name);
  }
  REQUIRE(raw);
  return c;
}

std::filesystem::path corpus_dir() {
  if (const char* root = std::getenv("OTTER_SOURCE_ROOT")) return std::filesystem::path(root) / "tests/net/http_corpus";
  return std::filesystem::path(__FILE__).parent_path() / "http_corpus";
}

} // namespace

TEST_CASE("http - every corpus case gives its expected outcome, whole, byte by byte and in random splits", "[http]") {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(corpus_dir()))
    if (entry.path().extension() == ".case") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 20);
  std::mt19937 rng(20261202);
  for (const auto& file : files) {
    const corpus_case c = load(file);
    INFO(c.name);
    const outcome expected = whole(c.raw, c.limits);
    CHECK(expected.status == c.status);
    CHECK(expected.requests.size() == c.requests);
    CHECK(expected.paused == c.paused);
    for (std::size_t i = 0; i < c.bodies.size() && i < expected.requests.size(); ++i) CHECK(expected.requests[i].body == c.bodies[i]);
    CHECK(same(run(c.raw, every_byte(c.raw.size()), c.limits), expected));
    for (int round = 0; round < 20; ++round) {
      const auto cuts = random_cuts(c.raw.size(), rng);
      CHECK(same(run(c.raw, cuts, c.limits), expected));
    }
  }
}
