// libFuzzer harness for otter::dist::handshake, both sides.
//
// The first byte picks the side (and the acceptor's status reply); the rest is
// what the peer sends. Each input is fed whole and then byte by byte, and both
// runs must end the same: same state, same bytes written, same error, same
// leftover. Challenges are fixed so that runs are repeatable; the seed corpus
// holds real transcripts for the fuzzer to mutate.

#include "../../lib/dist/handshake.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace dist = otter::dist;

namespace {

struct outcome {
  dist::handshake::state state;
  std::string written;
  std::string error;
  std::string leftover;
  std::string peer;
};

dist::handshake make(std::uint8_t selector) {
  dist::handshake_config c;
  c.our_name = (selector & 1) ? "a@h" : "b@h";
  c.our_creation = 7;
  c.cookie = "cookie";
  c.random_challenge = [] { return 12345u; };
  if (selector & 1) return dist::handshake::initiator(c, "b@h");
  const auto reply = static_cast<dist::status_reply>((selector >> 1) % 5);
  return dist::handshake::acceptor(c, [reply](std::string_view, std::uint32_t) { return reply; });
}

outcome run(std::uint8_t selector, std::string_view input, bool bytewise) {
  auto h = make(selector);
  outcome o;
  h.start(o.written);
  if (bytewise) {
    for (std::size_t i = 0; i < input.size(); ++i) {
      h.feed(input.substr(i, 1), o.written);
      if (h.alive_reply_needed()) h.answer_alive((selector & 0x10) != 0, o.written);
    }
  } else {
    // Whole, but an "alive" pause stops consumption: resume after answering.
    h.feed(input, o.written);
    if (h.alive_reply_needed()) h.answer_alive((selector & 0x10) != 0, o.written);
  }
  o.state = h.get_state();
  o.error = h.error();
  o.leftover = std::string(reinterpret_cast<const char*>(h.leftover().data()), h.leftover().size());
  o.peer = h.peer_name();
  if (o.written.size() > 4 * dist::handshake::max_message) std::abort(); // writes stay small
  if (o.state == dist::handshake::state::failed && o.error.empty()) std::abort();
  return o;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const outcome whole = run(selector, input, false);
  if (input.size() <= 512) {
    const outcome bytes = run(selector, input, true);
    if (whole.state != bytes.state || whole.written != bytes.written || whole.error != bytes.error ||
        whole.leftover != bytes.leftover || whole.peer != bytes.peer)
      std::abort();
  }
  return 0;
}
