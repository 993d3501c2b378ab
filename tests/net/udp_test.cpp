#include <otter/net/udp.hpp>

#include <otter/process.hpp>

#include "../support/otter_test.hpp"

using namespace otter_test;
namespace net = otter::net;

TEST_CASE("udp - a datagram goes from one socket to another with its sender's address", "[net][udp]") {
  run(one_core(), []() -> otter::process {
    auto a = net::udp_socket::bind(net::address::loopback_v4(0)).value();
    auto b = net::udp_socket::bind(net::address::loopback_v4(0)).value();
    auto sent = co_await a.send_to(b.local_address(), "ping");
    REQUIRE(sent);
    CHECK(*sent == 4);
    auto got = co_await b.recv_from(patience);
    REQUIRE(got);
    CHECK(got->bytes == "ping");
    CHECK(got->from == a.local_address());
  });
}

TEST_CASE("udp - recv_from times out with timed_out", "[net][udp]") {
  run(one_core(), []() -> otter::process {
    auto a = net::udp_socket::bind(net::address::loopback_v6(0)).value();
    auto none = co_await a.recv_from(20ms);
    REQUIRE_FALSE(none);
    CHECK(none.error() == std::errc::timed_out);
  });
}

TEST_CASE("udp - operations on a closed socket fail with bad_file_descriptor", "[net][udp]") {
  run(one_core(), []() -> otter::process {
    auto a = net::udp_socket::bind(net::address::loopback_v4(0)).value();
    const net::address at = a.local_address();
    a.close();
    auto r = co_await a.send_to(at, "x");
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::bad_file_descriptor);
  });
}
