#include "../../lib/dist/handshake.hpp"

#include <catch2/catch.hpp>

#include <string>

#include "../../lib/dist/md5.hpp"

using otter::dist::handshake;
using otter::dist::handshake_config;
using otter::dist::status_reply;
namespace dflag = otter::dist::dflag;

namespace {

handshake_config config(std::string name, std::string cookie, std::uint32_t creation, std::uint32_t challenge) {
  handshake_config c;
  c.our_name = std::move(name);
  c.our_creation = creation;
  c.cookie = std::move(cookie);
  c.random_challenge = [challenge] { return challenge; };
  return c;
}

// Passes bytes between the two sides until neither has anything to say,
// `chunk` bytes at a time (0: whole writes). Bounded: a handshake is 5 messages.
// With `to_b` given, goes on from those bytes instead of starting.
void talk(handshake& a, handshake& b, std::size_t chunk = 0, std::string* pending_to_b = nullptr) {
  std::string to_b, to_a;
  if (pending_to_b != nullptr) {
    to_b = std::move(*pending_to_b);
  } else {
    a.start(to_b);
    b.start(to_a);
  }
  for (int round = 0; round < 20 && (!to_a.empty() || !to_b.empty()); ++round) {
    auto deliver = [chunk](handshake& h, std::string& in, std::string& reply) {
      const std::string bytes = std::move(in);
      in.clear();
      if (chunk == 0) {
        h.feed(bytes, reply);
        return;
      }
      for (std::size_t i = 0; i < bytes.size(); i += chunk) h.feed(std::string_view(bytes).substr(i, chunk), reply);
    };
    deliver(b, to_b, to_a);
    deliver(a, to_a, to_b);
  }
}


std::string be16(std::size_t n) { return {static_cast<char>(n >> 8), static_cast<char>(n & 0xff)}; }

} // namespace

TEST_CASE("handshake - two sides with the same cookie complete and agree on names, creations and flags", "[dist][handshake]") {
  std::string seen;
  std::uint32_t seen_creation = 0;
  auto a = handshake::initiator(config("a@localhost", "secret", 11, 1), "b@localhost");
  auto b = handshake::acceptor(config("b@localhost", "secret", 22, 2), [&](std::string_view n, std::uint32_t c) {
    seen = std::string(n);
    seen_creation = c;
    return status_reply::ok;
  });
  talk(a, b);
  REQUIRE(a.get_state() == handshake::state::done);
  REQUIRE(b.get_state() == handshake::state::done);
  CHECK(seen == "a@localhost");
  CHECK(seen_creation == 11);
  CHECK(a.peer_name() == "b@localhost");
  CHECK(b.peer_name() == "a@localhost");
  CHECK(a.peer_creation() == 22);
  CHECK(b.peer_creation() == 11);
  CHECK(a.negotiated_flags() == dflag::default_flags);
  CHECK(b.peer_flags() == dflag::default_flags);
  CHECK(a.leftover().empty());
}

TEST_CASE("handshake - the digest is MD5 of the cookie and the decimal challenge", "[dist][handshake]") {
  // The acceptor's challenge is 4294967295: the initiator's reply must carry MD5("secret4294967295").
  auto a = handshake::initiator(config("a@h", "secret", 1, 7), "b@h");
  auto b = handshake::acceptor(config("b@h", "secret", 2, 4294967295u), nullptr);
  std::string to_b, to_a;
  a.start(to_b);
  b.feed(to_b, to_a);
  to_b.clear();
  a.feed(to_a, to_b);
  const auto d = otter::dist::md5("secret4294967295");
  REQUIRE(to_b.size() == 2 + 21);
  CHECK(to_b[2] == 'r');
  CHECK(to_b.substr(7) == std::string(reinterpret_cast<const char*>(d.data()), 16));
}

TEST_CASE("handshake - a wrong cookie is refused by the acceptor", "[dist][handshake]") {
  auto a = handshake::initiator(config("a@h", "one", 1, 1), "b@h");
  auto b = handshake::acceptor(config("b@h", "two", 2, 2), nullptr);
  talk(a, b);
  CHECK(b.get_state() == handshake::state::failed);
  CHECK(b.error() == "wrong cookie from a@h");
  CHECK(a.get_state() == handshake::state::in_progress); // it sees the connection close
}

TEST_CASE("handshake - a wrong challenge_ack is refused by the initiator", "[dist][handshake]") {
  auto a = handshake::initiator(config("a@h", "one", 1, 1), "b@h");
  auto b = handshake::acceptor(config("b@h", "one", 2, 2), nullptr);
  std::string to_b, to_a;
  a.start(to_b);
  b.feed(to_b, to_a);
  to_b.clear();
  a.feed(to_a, to_b); // status + challenge → reply
  std::string forged = be16(17) + "a" + std::string(16, 'x');
  std::string ignore;
  a.feed(forged, ignore);
  CHECK(a.get_state() == handshake::state::failed);
  CHECK(a.error() == "wrong cookie from b@h");
}

TEST_CASE("handshake - nok makes the initiator give way to the peer's own attempt", "[dist][handshake]") {
  auto a = handshake::initiator(config("a@h", "c", 1, 1), "b@h");
  auto b = handshake::acceptor(config("b@h", "c", 2, 2), [](std::string_view, std::uint32_t) { return status_reply::nok; });
  talk(a, b);
  CHECK(a.get_state() == handshake::state::failed);
  CHECK(a.refused_simultaneous());
  CHECK(b.get_state() == handshake::state::failed);
}

TEST_CASE("handshake - ok_simultaneous lets the initiator go on", "[dist][handshake]") {
  auto a = handshake::initiator(config("a@h", "c", 1, 1), "b@h");
  auto b = handshake::acceptor(config("b@h", "c", 2, 2),
                               [](std::string_view, std::uint32_t) { return status_reply::ok_simultaneous; });
  talk(a, b);
  CHECK(a.get_state() == handshake::state::done);
  CHECK(b.get_state() == handshake::state::done);
}

TEST_CASE("handshake - not_allowed fails both sides with the reason", "[dist][handshake]") {
  auto a = handshake::initiator(config("a@h", "c", 1, 1), "b@h");
  auto b = handshake::acceptor(config("b@h", "c", 2, 2),
                               [](std::string_view, std::uint32_t) { return status_reply::not_allowed; });
  talk(a, b);
  CHECK(a.get_state() == handshake::state::failed);
  CHECK(a.error() == "peer b@h refused: not_allowed");
  CHECK_FALSE(a.refused_simultaneous());
  CHECK(b.get_state() == handshake::state::failed);
}

TEST_CASE("handshake - alive waits for the initiator: true goes on, false fails both", "[dist][handshake]") {
  auto alive = [](std::string_view, std::uint32_t) { return status_reply::alive; };
  for (bool replace : {true, false}) {
    auto a = handshake::initiator(config("a@h", "c", 1, 1), "b@h");
    auto b = handshake::acceptor(config("b@h", "c", 2, 2), alive);
    std::string to_b, to_a;
    a.start(to_b);
    b.feed(to_b, to_a);
    to_b.clear();
    a.feed(to_a, to_b);
    to_a.clear();
    REQUIRE(a.alive_reply_needed());
    CHECK(to_b.empty()); // the challenge waits, unanswered, until we decide
    a.answer_alive(replace, to_b);
    talk(a, b, 0, &to_b);
    if (replace) {
      CHECK(a.get_state() == handshake::state::done);
      CHECK(b.get_state() == handshake::state::done);
    } else {
      CHECK(a.get_state() == handshake::state::failed);
      CHECK(b.get_state() == handshake::state::failed);
    }
  }
}

TEST_CASE("handshake - byte-at-a-time feeding completes the same way", "[dist][handshake]") {
  auto a = handshake::initiator(config("a@h", "c", 1, 1), "b@h");
  auto b = handshake::acceptor(config("b@h", "c", 2, 2), nullptr);
  talk(a, b, 1);
  CHECK(a.get_state() == handshake::state::done);
  CHECK(b.get_state() == handshake::state::done);
}

TEST_CASE("handshake - bytes after the last message are kept as leftover", "[dist][handshake]") {
  auto a = handshake::initiator(config("a@h", "c", 1, 1), "b@h");
  auto b = handshake::acceptor(config("b@h", "c", 2, 2), nullptr);
  std::string to_b, to_a;
  a.start(to_b);
  b.feed(to_b, to_a);
  to_b.clear();
  a.feed(to_a, to_b);
  to_a.clear();
  b.feed(to_b + std::string("\0\0\0\0frame", 9), to_a); // a tick and data ride with the reply
  REQUIRE(b.get_state() == handshake::state::done);
  CHECK(b.leftover().size() == 9);
  std::string ignore;
  b.feed("more", ignore);
  CHECK(b.leftover().size() == 13);
  a.feed(to_a + "xy", ignore);
  REQUIRE(a.get_state() == handshake::state::done);
  CHECK(a.leftover().size() == 2);
}

TEST_CASE("handshake - garbage is refused as malformed", "[dist][handshake]") {
  std::string out;
  auto b = handshake::acceptor(config("b@h", "c", 2, 2), nullptr);
  b.feed(be16(5) + "hello", out);
  CHECK(b.get_state() == handshake::state::failed);
  CHECK_THAT(b.error(), Catch::StartsWith("malformed"));
  auto a = handshake::initiator(config("a@h", "c", 1, 1), "b@h");
  a.start(out);
  a.feed(be16(3) + "sok" + be16(4) + "Nabc", out);
  CHECK(a.get_state() == handshake::state::failed);
  CHECK_THAT(a.error(), Catch::StartsWith("malformed"));
}

TEST_CASE("handshake - a send_name whose name runs past the message is malformed", "[dist][handshake]") {
  std::string msg = "N" + std::string(8, '\xff') + std::string(4, '\0') + be16(200) + "a@h";
  std::string out;
  auto b = handshake::acceptor(config("b@h", "c", 2, 2), nullptr);
  b.feed(be16(msg.size()) + msg, out);
  CHECK(b.get_state() == handshake::state::failed);
  CHECK_THAT(b.error(), Catch::Contains("runs past"));
}

TEST_CASE("handshake - an oversized length is refused before its bytes arrive", "[dist][handshake]") {
  std::string out;
  auto b = handshake::acceptor(config("b@h", "c", 2, 2), nullptr);
  b.feed(be16(65535), out);
  CHECK(b.get_state() == handshake::state::failed);
  CHECK_THAT(b.error(), Catch::Contains("65535 bytes"));
  auto z = handshake::acceptor(config("b@h", "c", 2, 2), nullptr);
  z.feed(be16(0), out);
  CHECK(z.get_state() == handshake::state::failed);
}

TEST_CASE("handshake - a peer lacking mandatory flags is refused with their names", "[dist][handshake]") {
  auto cfg = config("a@h", "c", 1, 1);
  cfg.flags = dflag::default_flags & ~(dflag::unlink_id | dflag::v4_nc);
  auto a = handshake::initiator(cfg, "b@h");
  bool asked = false;
  auto b = handshake::acceptor(config("b@h", "c", 2, 2), [&](std::string_view, std::uint32_t) {
    asked = true;
    return status_reply::ok;
  });
  talk(a, b);
  CHECK(b.get_state() == handshake::state::failed);
  CHECK(b.error() == "peer a@h lacks mandatory flags UNLINK_ID|V4_NC");
  CHECK_FALSE(asked);
  CHECK(a.get_state() == handshake::state::failed);
  CHECK(a.error() == "peer b@h refused: not_allowed");
  // and the initiator checks the acceptor's flags too
  auto a2 = handshake::initiator(config("a@h", "c", 1, 1), "b@h");
  cfg.our_name = "b@h";
  auto b2 = handshake::acceptor(cfg, nullptr);
  talk(a2, b2);
  CHECK(a2.get_state() == handshake::state::failed);
  CHECK(a2.error() == "peer b@h lacks mandatory flags UNLINK_ID|V4_NC");
}

TEST_CASE("handshake - MANDATORY_25_DIGEST stands for the OTP 25 mandatory set", "[dist][handshake]") {
  auto cfg = config("a@h", "c", 1, 1);
  cfg.flags = dflag::mandatory_25_digest | dflag::unlink_id | dflag::v4_nc;
  auto a = handshake::initiator(cfg, "b@h");
  auto b = handshake::acceptor(config("b@h", "c", 2, 2), nullptr);
  talk(a, b);
  CHECK(b.get_state() == handshake::state::done);
}

TEST_CASE("handshake - the initiator refuses a peer that answers with another name", "[dist][handshake]") {
  auto a = handshake::initiator(config("a@h", "c", 1, 1), "b@h");
  auto b = handshake::acceptor(config("other@h", "c", 2, 2), nullptr);
  talk(a, b);
  CHECK(a.get_state() == handshake::state::failed);
  CHECK_THAT(a.error(), Catch::Contains("'other@h'"));
}

TEST_CASE("handshake - a hidden node does not advertise PUBLISHED", "[dist][handshake]") {
  auto cfg = config("a@h", "c", 1, 1);
  cfg.hidden = true;
  auto a = handshake::initiator(cfg, "b@h");
  auto b = handshake::acceptor(config("b@h", "c", 2, 2), nullptr);
  talk(a, b);
  REQUIRE(b.get_state() == handshake::state::done);
  CHECK((b.peer_flags() & dflag::published) == 0);
  CHECK((b.negotiated_flags() & dflag::published) == 0);
}

TEST_CASE("handshake - an old 'n' send_name with HANDSHAKE_23 completes via the complement", "[dist][handshake]") {
  auto b = handshake::acceptor(config("b@h", "c", 2, 2), nullptr);
  std::string out;
  std::string n = "n" + be16(6);
  const auto low = static_cast<std::uint32_t>(dflag::default_flags);
  for (int i = 3; i >= 0; --i) n += static_cast<char>(low >> (8 * i));
  n += "a@h";
  b.feed(be16(n.size()) + n, out);
  REQUIRE(b.get_state() == handshake::state::in_progress);
  // out: status "sok", then the 'N' challenge; its challenge is 2
  std::string c = "c" + std::string("\0\0\0\x04", 4) + std::string("\0\0\0\x09", 4); // V4_NC (bit 34), creation 9
  const auto d = otter::dist::md5("c2");
  std::string r = "r" + std::string("\0\0\0\x05", 4) + std::string(reinterpret_cast<const char*>(d.data()), 16);
  out.clear();
  b.feed(be16(c.size()) + c + be16(r.size()) + r, out);
  REQUIRE(b.get_state() == handshake::state::done);
  CHECK(b.peer_creation() == 9);
  CHECK(b.peer_flags() == dflag::default_flags);
  const auto ack = otter::dist::md5("c5");
  CHECK(out == be16(17) + "a" + std::string(reinterpret_cast<const char*>(ack.data()), 16));
}

TEST_CASE("handshake - an old 'n' send_name without HANDSHAKE_23 is refused clearly", "[dist][handshake]") {
  auto b = handshake::acceptor(config("b@h", "c", 2, 2), nullptr);
  std::string out;
  std::string n = "n" + be16(5) + std::string("\0\0\0\x04", 4) + "a@h";
  b.feed(be16(n.size()) + n, out);
  CHECK(b.get_state() == handshake::state::failed);
  CHECK_THAT(b.error(), Catch::Contains("pre-OTP 23"));
  CHECK(out == be16(12) + "snot_allowed");
}

TEST_CASE("handshake - dflag_names lists the set flags by name", "[dist][handshake]") {
  CHECK(otter::dist::dflag_names(dflag::published | dflag::utf8_atoms) == "PUBLISHED|UTF8_ATOMS");
  CHECK(otter::dist::dflag_names(std::uint64_t{1} << 40) == "bit 40");
  CHECK(otter::dist::dflag_names(0).empty());
}
