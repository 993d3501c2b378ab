#include <otter/net/http.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace http = otter::net::http;

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
  CHECK_FALSE(p.next());
  CHECK(p.buffered() == 0);
}

TEST_CASE("http - a request split across many reads is parsed once complete", "[http]") {
  const std::string raw = "POST /submit HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
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
  p.feed("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nPOST /3 HTTP/1.1\r\nContent-Length: 2\r\n\r\nokGET /4 HT");
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
  p.feed("TP/1.1\r\n\r\n");
  auto d = p.next();
  REQUIRE(d);
  CHECK(d->target == "/4");
}

TEST_CASE("http - keep-alive follows the version and the Connection header", "[http]") {
  http::parser p;
  p.feed("GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n");
  CHECK_FALSE(p.next()->keep_alive());
  CHECK(p.next()->keep_alive());
  CHECK_FALSE(p.next()->keep_alive());
}

TEST_CASE("http - malformed requests are refused with 400", "[http]") {
  for (const char* raw : {"GARBAGE\r\n\r\n", "GET /x\r\n\r\n", "GET  /x HTTP/1.1\r\n\r\n", "GET /x HTTP/1.1 extra\r\n\r\n",
                          "G(T /x HTTP/1.1\r\n\r\n", "GET /x HTTP/1.1\r\nNoColon\r\n\r\n",
                          "GET /x HTTP/1.1\r\nBad Name: v\r\n\r\n", "GET /x HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n",
                          "GET /x HTTP/1.1\r\nH: a\x01z\r\n\r\n", "GET /\x7f HTTP/1.1\r\n\r\n", "GET /x FTP/1.1\r\n\r\n"}) {
    INFO(raw);
    http::parser p;
    p.feed(raw);
    CHECK_FALSE(p.next());
    REQUIRE(p.error());
    CHECK(p.error()->status == 400);
  }
}

TEST_CASE("http - an unsupported version is refused with 505", "[http]") {
  http::parser p;
  p.feed("GET / HTTP/2.0\r\n\r\n");
  CHECK_FALSE(p.next());
  REQUIRE(p.error());
  CHECK(p.error()->status == 505);
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

TEST_CASE("http - too many header fields are refused with 431", "[http]") {
  http::limits l;
  l.max_headers = 3;
  http::parser p(l);
  p.feed("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
  CHECK_FALSE(p.next());
  REQUIRE(p.error());
  CHECK(p.error()->status == 431);
}

TEST_CASE("http - a body over the limit is refused with 413; chunked bodies with 501", "[http]") {
  http::limits l;
  l.max_body_bytes = 10;
  http::parser big(l);
  big.feed("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n");
  CHECK_FALSE(big.next());
  CHECK(big.error()->status == 413);
  http::parser chunked;
  chunked.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK_FALSE(chunked.next());
  CHECK(chunked.error()->status == 501);
}

TEST_CASE("http - after an error the parser yields nothing more", "[http]") {
  http::parser p;
  p.feed("BAD\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  CHECK_FALSE(p.next());
  CHECK_FALSE(p.next());
  CHECK(p.error()->status == 400);
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
