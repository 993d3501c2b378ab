// libFuzzer harness: a connection's byte stream after the handshake, cut into
// frames and decoded as a peer could send it. Whatever comes in, the reader
// and the decoder return frames or errors; a frame that decodes re-encodes to
// a frame that decodes to the same control message and payload; and the fast
// path for messages to a pid (parse_send_frame) agrees with parse_frame on
// every frame it claims.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "../../lib/dist/frame.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace otter::dist;
  const local_node local{"fuzz@localhost", 7, 0};
  frame_reader reader(1 << 20);
  // Split the input at its first byte's value, so arrivals in pieces are explored too.
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  std::string_view body;
  for (std::string_view piece : {all.substr(0, cut), all.substr(cut)}) {
    reader.append(piece);
    for (int i = 0; i < 100000; ++i) {
      const frame_reader::status st = reader.next(body);
      if (st == frame_reader::status::need_more || st == frame_reader::status::error) break;
      if (st == frame_reader::status::tick) continue;
      control_message m;
      std::string error;
      decode_limits limits;
      limits.max_depth = 200;
      limits.max_elements = 1 << 16;
      limits.max_bytes = 1 << 20;
      const bool parsed = parse_frame(body, m, local, error, limits);
      otter::pid to;
      otter::term message;
      std::string fast_error;
      switch (parse_send_frame(body, to, message, local, fast_error, limits)) {
      case send_frame::ok:
        if (!parsed || (m.op != ctrl::send && m.op != ctrl::send_sender) || m.control.size() != 3 ||
            !(m.control[2] == otter::term(to)) || !(m.payload == message))
          __builtin_trap();
        break;
      case send_frame::malformed:
        if (parsed || fast_error.empty()) __builtin_trap();
        break;
      case send_frame::not_send:
        break;
      }
      if (!parsed) {
        if (error.empty()) __builtin_trap(); // a refusal always says why
        continue;
      }
      std::string again;
      append_frame(again, m.control, ctrl::has_payload(m.op) ? &m.payload : nullptr, local);
      control_message back;
      if (!parse_frame(std::string_view(again).substr(4), back, local, error)) __builtin_trap();
      if (!(back.control == m.control) || !(back.payload == m.payload)) __builtin_trap();
    }
  }
  return 0;
}

// lib/ref.cpp's make_ref needs a scheduler; decoding never makes a reference.
namespace otter::detail {
class scheduler;
scheduler& current_scheduler(const char*) { __builtin_trap(); }
} // namespace otter::detail
