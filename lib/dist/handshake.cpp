// The 'N' handshake, both sides: framing, message parsing, flag and cookie checks.
#include "handshake.hpp"

#include <random>

#include "md5.hpp"

namespace otter::dist {

namespace {

std::uint64_t get_be(std::string_view s, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// Writes one handshake message: its 2-byte length, then `body`.
void put_message(std::string& out, std::string_view body) {
  put_be(out, body.size(), 2);
  out += body;
}

struct flag_name {
  std::uint64_t bit;
  const char* name;
};
constexpr flag_name flag_names[] = {
    {dflag::published, "PUBLISHED"},
    {dflag::atom_cache, "ATOM_CACHE"},
    {dflag::extended_references, "EXTENDED_REFERENCES"},
    {dflag::dist_monitor, "DIST_MONITOR"},
    {dflag::fun_tags, "FUN_TAGS"},
    {dflag::dist_monitor_name, "DIST_MONITOR_NAME"},
    {dflag::hidden_atom_cache, "HIDDEN_ATOM_CACHE"},
    {dflag::new_fun_tags, "NEW_FUN_TAGS"},
    {dflag::extended_pids_ports, "EXTENDED_PIDS_PORTS"},
    {dflag::export_ptr_tag, "EXPORT_PTR_TAG"},
    {dflag::bit_binaries, "BIT_BINARIES"},
    {dflag::new_floats, "NEW_FLOATS"},
    {dflag::unicode_io, "UNICODE_IO"},
    {dflag::dist_hdr_atom_cache, "DIST_HDR_ATOM_CACHE"},
    {dflag::small_atom_tags, "SMALL_ATOM_TAGS"},
    {dflag::ets_compressed, "ETS_COMPRESSED"},
    {dflag::utf8_atoms, "UTF8_ATOMS"},
    {dflag::map_tag, "MAP_TAG"},
    {dflag::big_creation, "BIG_CREATION"},
    {dflag::send_sender, "SEND_SENDER"},
    {dflag::big_seqtrace_labels, "BIG_SEQTRACE_LABELS"},
    {dflag::pending_connect, "PENDING_CONNECT"},
    {dflag::exit_payload, "EXIT_PAYLOAD"},
    {dflag::fragments, "FRAGMENTS"},
    {dflag::handshake_23, "HANDSHAKE_23"},
    {dflag::unlink_id, "UNLINK_ID"},
    {dflag::mandatory_25_digest, "MANDATORY_25_DIGEST"},
    {dflag::spawn, "SPAWN"},
    {dflag::name_me, "NAME_ME"},
    {dflag::v4_nc, "V4_NC"},
    {dflag::alias, "ALIAS"},
    {dflag::altact_sig, "ALTACT_SIG"},
};

// A peer's flags as the mandatory check sees them: MANDATORY_25_DIGEST stands for
// the whole OTP 25 set.
std::uint64_t expand(std::uint64_t flags) {
  return (flags & dflag::mandatory_25_digest) != 0 ? flags | dflag::mandatory_25 : flags;
}

const char* status_text(status_reply r) {
  switch (r) {
  case status_reply::ok: return "ok";
  case status_reply::ok_simultaneous: return "ok_simultaneous";
  case status_reply::nok: return "nok";
  case status_reply::not_allowed: return "not_allowed";
  case status_reply::alive: return "alive";
  }
  return "not_allowed";
}

// `name@host`, both parts non-empty, printable ASCII: what an acceptor accepts
// as a peer's name.
bool valid_peer_name(std::string_view n) {
  const auto at = n.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= n.size() || n.size() > 255) return false;
  for (char c : n) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  return true;
}

// A name for error messages: bounded and printable whatever the peer sent.
std::string shown(std::string_view n) {
  std::string s;
  for (char c : n.substr(0, 255)) {
    const auto u = static_cast<unsigned char>(c);
    s += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  return s;
}

} // namespace

std::string dflag_names(std::uint64_t flags) {
  std::string s;
  for (int bit = 0; bit < 64; ++bit) {
    const std::uint64_t b = std::uint64_t{1} << bit;
    if ((flags & b) == 0) continue;
    if (!s.empty()) s += '|';
    const char* name = nullptr;
    for (const auto& f : flag_names)
      if (f.bit == b) name = f.name;
    s += name != nullptr ? std::string(name) : "bit " + std::to_string(bit);
  }
  return s;
}

handshake::handshake(const handshake_config& config, role r)
    : config_(config), role_(r), step_(r == role::initiator ? step::status : step::send_name),
      our_flags_(config.hidden ? config.flags & ~dflag::published : config.flags) {}

handshake handshake::initiator(const handshake_config& config, std::string expected_peer) {
  handshake h(config, role::initiator);
  h.expected_peer_ = std::move(expected_peer);
  return h;
}

handshake handshake::acceptor(const handshake_config& config,
                              std::function<status_reply(std::string_view, std::uint32_t)> decide) {
  handshake h(config, role::acceptor);
  h.decide_ = std::move(decide);
  return h;
}

void handshake::start(std::string& out) {
  if (role_ != role::initiator || state_ != state::in_progress) return;
  std::string m = "N";
  put_be(m, our_flags_, 8);
  put_be(m, config_.our_creation, 4);
  put_be(m, config_.our_name.size(), 2);
  m += config_.our_name;
  put_message(out, m);
}

void handshake::feed(std::span<const std::byte> in, std::string& out) {
  const std::string_view bytes(reinterpret_cast<const char*>(in.data()), in.size());
  switch (state_) {
  case state::failed: return;
  case state::done: leftover_ += bytes; return;
  case state::in_progress: break;
  }
  in_ += bytes;
  pump(out);
}

void handshake::pump(std::string& out) {
  while (state_ == state::in_progress && !alive_pending_) {
    if (in_.size() < 2) return;
    const std::size_t len = get_be(in_, 0, 2);
    if (len == 0) return fail("malformed handshake: an empty message");
    if (len > max_message)
      return fail("malformed handshake: a message of " + std::to_string(len) + " bytes (at most " +
                  std::to_string(max_message) + ")");
    if (in_.size() < 2 + len) return;
    const std::string msg = in_.substr(2, len);
    in_.erase(0, 2 + len);
    handle(msg, out);
  }
  if (state_ == state::done) {
    leftover_ = std::move(in_);
    in_.clear();
  }
}

void handshake::handle(std::string_view msg, std::string& out) {
  switch (step_) {
  case step::send_name: return on_send_name(msg, out);
  case step::status: return on_status(msg, out);
  case step::alive_answer: return on_alive_answer(msg, out);
  case step::challenge: return on_challenge(msg, out);
  case step::complement: return on_complement(msg);
  case step::challenge_reply: return on_challenge_reply(msg, out);
  case step::challenge_ack: return on_challenge_ack(msg);
  case step::finished: return;
  }
}

void handshake::fail(std::string why) {
  if (state_ != state::in_progress) return;
  state_ = state::failed;
  error_ = std::move(why);
  in_.clear();
}

std::string handshake::digest(std::uint32_t challenge) const {
  const md5_digest d = md5(config_.cookie + std::to_string(challenge));
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

std::uint32_t handshake::new_challenge() {
  if (config_.random_challenge) return config_.random_challenge();
  std::random_device rd;
  return static_cast<std::uint32_t>(rd());
}

// Acceptor: 'N', Flags:8, Creation:4, Nlen:2, Name (trailing bytes ignored), or
// the old 'n', Version:2, Flags:4, Name, accepted only from a node that can do
// the rest of the new handshake (HANDSHAKE_23): it then sends its creation and
// high flags in a complement message.
void handshake::on_send_name(std::string_view msg, std::string& out) {
  std::string name;
  if (msg[0] == 'N') {
    if (msg.size() < 15) return fail("malformed send_name: " + std::to_string(msg.size()) + " bytes");
    peer_flags_ = get_be(msg, 1, 8);
    peer_creation_ = static_cast<std::uint32_t>(get_be(msg, 9, 4));
    const std::size_t nlen = get_be(msg, 13, 2);
    if (15 + nlen > msg.size()) return fail("malformed send_name: its name runs past the message");
    name = std::string(msg.substr(15, nlen));
  } else if (msg[0] == 'n') {
    if (msg.size() < 7) return fail("malformed old send_name: " + std::to_string(msg.size()) + " bytes");
    peer_flags_ = get_be(msg, 3, 4);
    name = std::string(msg.substr(7));
    if ((peer_flags_ & dflag::handshake_23) == 0) {
      put_message(out, "snot_allowed");
      return fail("peer " + shown(name) + " uses the pre-OTP 23 handshake (no HANDSHAKE_23), which is not supported");
    }
    old_send_name_ = true;
  } else {
    return fail("malformed handshake: expected send_name, got message tag " +
                std::to_string(static_cast<unsigned char>(msg[0])));
  }
  if (!valid_peer_name(name)) return fail("malformed send_name: bad node name '" + shown(name) + "'");
  peer_name_ = std::move(name);
  // An old send_name carries only the low 32 flag bits: the rest come in the
  // complement, so the high mandatory bits are checked there.
  const std::uint64_t need = old_send_name_ ? dflag::mandatory & 0xffffffffu : dflag::mandatory;
  const std::uint64_t missing = need & ~expand(peer_flags_);
  if (missing != 0) {
    put_message(out, "snot_allowed");
    return fail("peer " + peer_name_ + " lacks mandatory flags " + dflag_names(missing));
  }
  const status_reply r = decide_ ? decide_(peer_name_, old_send_name_ ? 0 : peer_creation_) : status_reply::ok;
  put_message(out, std::string("s") + status_text(r));
  switch (r) {
  case status_reply::ok:
  case status_reply::ok_simultaneous: return send_challenge(out);
  case status_reply::nok: return fail("refused " + peer_name_ + ": nok (our own connection attempt wins)");
  case status_reply::not_allowed: return fail("refused " + peer_name_ + ": not_allowed");
  case status_reply::alive: step_ = step::alive_answer; return;
  }
}

// Acceptor, after "alive": the initiator says "true" (replace the old
// connection) or "false".
void handshake::on_alive_answer(std::string_view msg, std::string& out) {
  if (msg == "strue") return send_challenge(out);
  if (msg == "sfalse") return fail("peer " + peer_name_ + " keeps its existing connection (answered false to alive)");
  return fail("malformed handshake: expected strue or sfalse from " + peer_name_);
}

// Acceptor: 'N', Flags:8, Challenge:4, Creation:4, Nlen:2, Name.
void handshake::send_challenge(std::string& out) {
  our_challenge_ = new_challenge();
  std::string m = "N";
  put_be(m, our_flags_, 8);
  put_be(m, our_challenge_, 4);
  put_be(m, config_.our_creation, 4);
  put_be(m, config_.our_name.size(), 2);
  m += config_.our_name;
  put_message(out, m);
  step_ = old_send_name_ ? step::complement : step::challenge_reply;
}

// Acceptor, after an old send_name: 'c', FlagsHigh:4, Creation:4.
void handshake::on_complement(std::string_view msg) {
  if (msg.size() != 9 || msg[0] != 'c') return fail("malformed complement from " + peer_name_);
  peer_flags_ = (peer_flags_ & 0xffffffffu) | get_be(msg, 1, 4) << 32;
  peer_creation_ = static_cast<std::uint32_t>(get_be(msg, 5, 4));
  const std::uint64_t missing = dflag::mandatory & ~expand(peer_flags_);
  if (missing != 0) return fail("peer " + peer_name_ + " lacks mandatory flags " + dflag_names(missing));
  step_ = step::challenge_reply;
}

// Acceptor: 'r', ChallengeA:4, Digest:16; answered with 'a', Digest:16.
void handshake::on_challenge_reply(std::string_view msg, std::string& out) {
  if (msg.size() != 21 || msg[0] != 'r') return fail("malformed challenge_reply from " + peer_name_);
  const auto their_challenge = static_cast<std::uint32_t>(get_be(msg, 1, 4));
  if (msg.substr(5) != digest(our_challenge_)) return fail("wrong cookie from " + peer_name_);
  std::string ack = "a";
  ack += digest(their_challenge);
  put_message(out, ack);
  step_ = step::finished;
  state_ = state::done;
}

// Initiator: 's' + a status word.
void handshake::on_status(std::string_view msg, std::string& out) {
  (void)out;
  if (msg[0] != 's') return fail("malformed handshake: expected status from " + expected_peer_);
  const std::string_view st = msg.substr(1);
  if (st == "ok" || st == "ok_simultaneous") {
    step_ = step::challenge;
    return;
  }
  if (st == "nok") {
    refused_simultaneous_ = true;
    return fail("peer " + expected_peer_ + " refused: nok (its own connection attempt wins)");
  }
  if (st == "not_allowed") return fail("peer " + expected_peer_ + " refused: not_allowed");
  if (st == "alive") {
    alive_pending_ = true;
    step_ = step::challenge;
    return;
  }
  if (st.substr(0, 6) == "named:") return fail("peer " + expected_peer_ + " sent a name (NAME_ME was not asked for)");
  return fail("malformed status from " + expected_peer_ + ": '" + shown(st) + "'");
}

void handshake::answer_alive(bool replace, std::string& out) {
  if (!alive_pending_ || state_ != state::in_progress) return;
  alive_pending_ = false;
  if (!replace) {
    put_message(out, "sfalse");
    return fail("peer " + expected_peer_ + " has a connection to us already (answered false to alive)");
  }
  put_message(out, "strue");
  pump(out);
}

// Initiator: 'N', Flags:8, Challenge:4, Creation:4, Nlen:2, Name; answered with
// 'r', OurChallenge:4, Digest:16.
void handshake::on_challenge(std::string_view msg, std::string& out) {
  if (msg[0] == 'n') return fail("peer " + expected_peer_ + " sent an old-style challenge (pre-OTP 23), not supported");
  if (msg[0] != 'N' || msg.size() < 19) return fail("malformed challenge from " + expected_peer_);
  peer_flags_ = get_be(msg, 1, 8);
  const auto their_challenge = static_cast<std::uint32_t>(get_be(msg, 9, 4));
  peer_creation_ = static_cast<std::uint32_t>(get_be(msg, 13, 4));
  const std::size_t nlen = get_be(msg, 17, 2);
  if (19 + nlen > msg.size()) return fail("malformed challenge from " + expected_peer_ + ": its name runs past the message");
  const std::string_view name = msg.substr(19, nlen);
  if (name != expected_peer_)
    return fail("connected to " + expected_peer_ + " but the peer says it is '" + shown(name) + "'");
  peer_name_ = std::string(name);
  const std::uint64_t missing = dflag::mandatory & ~expand(peer_flags_);
  if (missing != 0) return fail("peer " + peer_name_ + " lacks mandatory flags " + dflag_names(missing));
  our_challenge_ = new_challenge();
  std::string m = "r";
  put_be(m, our_challenge_, 4);
  m += digest(their_challenge);
  put_message(out, m);
  step_ = step::challenge_ack;
}

// Initiator: 'a', Digest:16 of our challenge.
void handshake::on_challenge_ack(std::string_view msg) {
  if (msg.size() != 17 || msg[0] != 'a') return fail("malformed challenge_ack from " + peer_name_);
  if (msg.substr(1) != digest(our_challenge_)) return fail("wrong cookie from " + peer_name_);
  step_ = step::finished;
  state_ = state::done;
}

} // namespace otter::dist
