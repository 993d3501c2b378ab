// Frames after the handshake: the fast path for messages to a pid.

#include <catch2/catch.hpp>

#include <string>

#include <otter/dist/node_table.hpp>

#include "../../lib/dist/frame.hpp"

namespace dist = otter::dist;
using otter::term;

namespace {

const dist::local_node& me() {
  static const dist::local_node l{"frame@localhost", 5, dist::intern_node("frame@localhost", 5)};
  return l;
}

const otter::pid target = otter::pid::make(0, 17, 3);

std::string frame_of(const term& control, const term* payload) {
  std::string out;
  dist::append_frame(out, control, payload, me());
  return out.substr(4); // the body, without its length
}

} // namespace

TEST_CASE("a SEND frame decodes on the fast path to its target and message", "[dist][frame]") {
  const term msg = term::tuple({term::atom("hello"), 42});
  const std::string body = frame_of(term::tuple({term(dist::ctrl::send), term::atom(""), term(target)}), &msg);
  otter::pid to;
  term got;
  std::string error;
  REQUIRE(dist::parse_send_frame(body, to, got, me(), error) == dist::send_frame::ok);
  CHECK(to == target);
  CHECK(got == msg);
}

TEST_CASE("a SEND_SENDER frame decodes on the fast path to its target and message", "[dist][frame]") {
  const term msg = term::binary("x");
  const otter::pid sender = dist::make_remote_pid(dist::intern_node("other@localhost", 9), 4, 0);
  const std::string body =
      frame_of(term::tuple({term(dist::ctrl::send_sender), term(sender), term(target)}), &msg);
  otter::pid to;
  term got;
  std::string error;
  REQUIRE(dist::parse_send_frame(body, to, got, me(), error) == dist::send_frame::ok);
  CHECK(to == target);
  CHECK(got == msg);
}

TEST_CASE("frames other than a message to a pid are left to parse_frame", "[dist][frame]") {
  const term reason = term::atom("normal");
  const std::string link = frame_of(term::tuple({term(dist::ctrl::link), term(target), term(target)}), nullptr);
  const std::string reg = frame_of(term::tuple({term(dist::ctrl::reg_send), term(target), term::atom(""),
                                                term::atom("echo")}), &reason);
  // A SEND whose target is not a pid is malformed, and parse_frame's caller says so.
  const std::string odd = frame_of(term::tuple({term(dist::ctrl::send), term::atom(""), term::atom("x")}), &reason);
  otter::pid to;
  term got;
  std::string error;
  CHECK(dist::parse_send_frame(link, to, got, me(), error) == dist::send_frame::not_send);
  CHECK(dist::parse_send_frame(reg, to, got, me(), error) == dist::send_frame::not_send);
  CHECK(dist::parse_send_frame(odd, to, got, me(), error) == dist::send_frame::not_send);
}

TEST_CASE("a SEND frame with a truncated, missing or trailing payload is malformed, with a reason", "[dist][frame]") {
  const term msg = term::tuple({term::atom("hello"), 42});
  const std::string whole = frame_of(term::tuple({term(dist::ctrl::send), term::atom(""), term(target)}), &msg);
  const std::string no_payload = frame_of(term::tuple({term(dist::ctrl::send), term::atom(""), term(target)}), nullptr);
  for (const std::string& body : {whole.substr(0, whole.size() - 1), no_payload, whole + "\x83j", whole.substr(0, 12)}) {
    otter::pid to;
    term got;
    std::string error;
    CHECK(dist::parse_send_frame(body, to, got, me(), error) == dist::send_frame::malformed);
    CHECK(!error.empty());
  }
}
