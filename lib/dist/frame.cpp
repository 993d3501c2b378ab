#include "frame.hpp"

#include <span>

namespace otter::dist {

bool ctrl::has_payload(int op) noexcept {
  switch (op) {
  case send: case reg_send: case send_tt: case reg_send_tt: case send_sender: case send_sender_tt:
  case payload_exit: case payload_exit_tt: case payload_exit2: case payload_exit2_tt:
  case payload_monitor_p_exit: case spawn_request: case spawn_request_tt: case alias_send:
  case alias_send_tt:
    return true;
  default:
    return false;
  }
}

void frame_reader::append(std::string_view bytes) {
  if (pos_ != 0 && pos_ >= buf_.size() / 2) { // keep the buffer from creeping
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

frame_reader::status frame_reader::next(std::string_view& body) {
  if (!error_.empty()) return status::error;
  const std::size_t have = buf_.size() - pos_;
  if (have < 4) return status::need_more;
  const auto* p = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
  const std::size_t len = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) | (std::size_t{p[2]} << 8) | p[3];
  if (len == 0) {
    pos_ += 4;
    return status::tick;
  }
  if (len > max_frame_) {
    error_ = "a frame of " + std::to_string(len) + " bytes, above the limit of " + std::to_string(max_frame_);
    return status::error;
  }
  if (have - 4 < len) return status::need_more;
  body = std::string_view(buf_.data() + pos_ + 4, len);
  pos_ += 4 + len;
  return status::frame;
}

bool parse_frame(std::string_view body, control_message& out, const local_node& local, std::string& error,
                 const decode_limits& limits) {
  if (body.empty() || static_cast<unsigned char>(body[0]) != 112) {
    error = body.empty() ? "an empty frame" : "a frame that is not a pass-through frame (type " +
                                                  std::to_string(static_cast<unsigned char>(body[0])) + ")";
    return false;
  }
  auto bytes = std::as_bytes(std::span(body.data() + 1, body.size() - 1));
  decode_result r = decode(bytes, out.control, local, true, limits);
  if (!r.ok) {
    error = "a malformed control message: " + r.error;
    return false;
  }
  const term& c = out.control;
  std::optional<std::int64_t> op;
  if (c.is_tuple() && c.size() >= 1) op = c[0].to_int64();
  if (!op) {
    error = "a control message that is not a tuple led by an operation: " + to_string(c);
    return false;
  }
  out.op = static_cast<int>(*op);
  bytes = bytes.subspan(r.consumed);
  if (ctrl::has_payload(out.op)) {
    if (bytes.empty()) {
      error = "control message " + std::to_string(out.op) + " without its payload";
      return false;
    }
    r = decode(bytes, out.payload, local, true, limits);
    if (!r.ok) {
      error = "a malformed payload of control message " + std::to_string(out.op) + ": " + r.error;
      return false;
    }
    bytes = bytes.subspan(r.consumed);
  } else {
    out.payload = term();
  }
  if (!bytes.empty()) {
    error = std::to_string(bytes.size()) + " bytes after control message " + std::to_string(out.op);
    return false;
  }
  return true;
}

send_frame parse_send_frame(std::string_view body, pid& to, term& payload, const local_node& local,
                            std::string& error, const decode_limits& limits) {
  // [112][131][104 SMALL_TUPLE][3][97 SMALL_INTEGER][2 or 22] then the second
  // element ('' or the sender), the target pid, and [131] the message.
  const auto* u = reinterpret_cast<const unsigned char*>(body.data());
  if (body.size() < 7 || u[0] != 112 || u[1] != 131 || u[2] != 104 || u[3] != 3 || u[4] != 97 ||
      (u[5] != ctrl::send && u[5] != ctrl::send_sender))
    return send_frame::not_send;
  const int op = u[5];
  auto bytes = std::as_bytes(std::span(body.data() + 6, body.size() - 6));
  term second;
  const decode_result r2 = decode(bytes, second, local, false, limits);
  if (!r2.ok) {
    error = "a malformed control message: " + r2.error;
    return send_frame::malformed;
  }
  if (op == ctrl::send ? !second.is_atom() : second.type() != term::kind::pid) return send_frame::not_send;
  bytes = bytes.subspan(r2.consumed);
  term target;
  const decode_result r3 = decode(bytes, target, local, false, limits);
  if (!r3.ok) {
    error = "a malformed control message: " + r3.error;
    return send_frame::malformed;
  }
  if (target.type() != term::kind::pid) return send_frame::not_send; // malformed: parse_frame says how
  to = target.as_pid();
  bytes = bytes.subspan(r3.consumed);
  if (bytes.empty()) {
    error = "control message " + std::to_string(op) + " without its payload";
    return send_frame::malformed;
  }
  const decode_result rp = decode(bytes, payload, local, true, limits);
  if (!rp.ok) {
    error = "a malformed payload of control message " + std::to_string(op) + ": " + rp.error;
    return send_frame::malformed;
  }
  if (rp.consumed != bytes.size()) {
    error = std::to_string(bytes.size() - rp.consumed) + " bytes after control message " + std::to_string(op);
    return send_frame::malformed;
  }
  return send_frame::ok;
}

namespace {
std::size_t begin_frame(std::string& out) {
  const std::size_t at = out.size();
  out.append(4, '\0');
  out.push_back(static_cast<char>(112));
  return at;
}
void end_frame(std::string& out, std::size_t at) {
  const std::size_t len = out.size() - at - 4;
  out[at] = static_cast<char>(len >> 24);
  out[at + 1] = static_cast<char>(len >> 16);
  out[at + 2] = static_cast<char>(len >> 8);
  out[at + 3] = static_cast<char>(len);
}
} // namespace

void append_frame(std::string& out, const term& control, const term* payload, const local_node& local) {
  const std::size_t at = begin_frame(out);
  encode(control, out, local, true);
  if (payload != nullptr) encode(*payload, out, local, true);
  end_frame(out, at);
}

void append_frame_encoded(std::string& out, const term& control, std::string_view encoded,
                          const local_node& local) {
  const std::size_t at = begin_frame(out);
  encode(control, out, local, true);
  out.append(encoded);
  end_frame(out, at);
}

void append_frame_encoded_payload(std::string& out, std::string_view control, const term& payload,
                                  const local_node& local) {
  const std::size_t at = begin_frame(out);
  out.append(control);
  encode(payload, out, local, true);
  end_frame(out, at);
}

void append_frame_bytes(std::string& out, std::string_view control, std::string_view payload) {
  const std::size_t at = begin_frame(out);
  out.append(control);
  out.append(payload);
  end_frame(out, at);
}

} // namespace otter::dist
