#pragma once
// A connection's frames after the handshake: `[Length:4][112][131 Control][131 Payload]`,
// or four zero bytes for a tick. Pure: no sockets, so tests and the fuzzer drive it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <otter/dist/term.hpp>

#include "etf.hpp"

namespace otter::dist {

/// Control message operations (the first element of the control tuple).
namespace ctrl {
inline constexpr int link = 1, send = 2, exit = 3, unlink = 4, node_link = 5, reg_send = 6,
                     group_leader = 7, exit2 = 8, send_tt = 12, exit_tt = 13, reg_send_tt = 16,
                     exit2_tt = 18, monitor_p = 19, demonitor_p = 20, monitor_p_exit = 21,
                     send_sender = 22, send_sender_tt = 23, payload_exit = 24, payload_exit_tt = 25,
                     payload_exit2 = 26, payload_exit2_tt = 27, payload_monitor_p_exit = 28,
                     spawn_request = 29, spawn_request_tt = 30, spawn_reply = 31, spawn_reply_tt = 32,
                     alias_send = 33, alias_send_tt = 34, unlink_id = 35, unlink_id_ack = 36;
/// True for operations followed by a payload term (a message or an exit reason).
bool has_payload(int op) noexcept;
} // namespace ctrl

/// Cuts a byte stream into frames. Bytes go in as they arrive; whole frames come out.
class frame_reader {
public:
  explicit frame_reader(std::size_t max_frame) : max_frame_(max_frame) {}

  enum class status { need_more, tick, frame, error };

  void append(std::string_view bytes);
  /// The next frame's body (from the 112 byte on) in `body`, valid until the
  /// next append. `error`: a frame longer than the limit (see error()).
  status next(std::string_view& body);
  const std::string& error() const noexcept { return error_; }
  /// Bytes held (read, not yet returned as frames).
  std::size_t buffered() const noexcept { return buf_.size() - pos_; }

private:
  std::size_t max_frame_;
  std::string buf_;
  std::size_t pos_ = 0;
  std::string error_;
};

/// One decoded frame.
struct control_message {
  int op = 0;
  term control;  ///< the control tuple
  term payload;  ///< for ctrl::has_payload(op)
};

/// Decodes a frame's body. False with `error` for anything malformed: not a
/// pass-through frame, a control that is not a tuple led by a small integer, a
/// missing or extra payload, bytes left over.
bool parse_frame(std::string_view body, control_message& out, const local_node& local,
                 std::string& error, const decode_limits& limits = {});

/// The common frame, a message to a pid (SEND `{2, '', To}` or SEND_SENDER
/// `{22, From, To}`), decoded without building its control tuple.
/// `not_send`: the frame is something else (use parse_frame); `malformed`:
/// it starts as one but is not (`error` says why).
enum class send_frame { ok, not_send, malformed };
send_frame parse_send_frame(std::string_view body, pid& to, term& payload, const local_node& local,
                            std::string& error, const decode_limits& limits = {});

/// Appends a frame: `control`, and `payload` unless it is null.
void append_frame(std::string& out, const term& control, const term* payload, const local_node& local);
/// Appends a frame whose payload is encoded already (`encoded` with its 131 byte).
void append_frame_encoded(std::string& out, const term& control, std::string_view encoded,
                          const local_node& local);
/// Appends a frame of a control encoded already and a payload to encode.
void append_frame_encoded_payload(std::string& out, std::string_view control, const term& payload,
                                  const local_node& local);
/// Appends a frame of a control and a payload both encoded already (each with its 131 byte).
void append_frame_bytes(std::string& out, std::string_view control, std::string_view payload);
/// Appends a tick (an empty frame).
inline void append_tick(std::string& out) { out.append(4, '\0'); }

} // namespace otter::dist
