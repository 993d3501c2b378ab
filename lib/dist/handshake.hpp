#pragma once
// The distribution handshake (OTP 23+ 'N' variant) as a pure state machine: bytes
// in, bytes out, no sockets.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace otter::dist {

/// Distribution capability flags exchanged in the handshake (erts dist.h values).
namespace dflag {
inline constexpr std::uint64_t published = 0x1;
inline constexpr std::uint64_t atom_cache = 0x2;
inline constexpr std::uint64_t extended_references = 0x4;
inline constexpr std::uint64_t dist_monitor = 0x8;
inline constexpr std::uint64_t fun_tags = 0x10;
inline constexpr std::uint64_t dist_monitor_name = 0x20;
inline constexpr std::uint64_t hidden_atom_cache = 0x40;
inline constexpr std::uint64_t new_fun_tags = 0x80;
inline constexpr std::uint64_t extended_pids_ports = 0x100;
inline constexpr std::uint64_t export_ptr_tag = 0x200;
inline constexpr std::uint64_t bit_binaries = 0x400;
inline constexpr std::uint64_t new_floats = 0x800;
inline constexpr std::uint64_t unicode_io = 0x1000;
inline constexpr std::uint64_t dist_hdr_atom_cache = 0x2000;
inline constexpr std::uint64_t small_atom_tags = 0x4000;
inline constexpr std::uint64_t ets_compressed = 0x8000;
inline constexpr std::uint64_t utf8_atoms = 0x10000;
inline constexpr std::uint64_t map_tag = 0x20000;
inline constexpr std::uint64_t big_creation = 0x40000;
inline constexpr std::uint64_t send_sender = 0x80000;
inline constexpr std::uint64_t big_seqtrace_labels = 0x100000;
inline constexpr std::uint64_t pending_connect = 0x200000;
inline constexpr std::uint64_t exit_payload = 0x400000;
inline constexpr std::uint64_t fragments = 0x800000;
inline constexpr std::uint64_t handshake_23 = 0x1000000;
inline constexpr std::uint64_t unlink_id = 0x2000000;
/// Stands for the whole OTP 25 mandatory set (the source value; the docs' 1<<36 is wrong).
inline constexpr std::uint64_t mandatory_25_digest = 0x4000000;
inline constexpr std::uint64_t spawn = std::uint64_t{1} << 32;
inline constexpr std::uint64_t name_me = std::uint64_t{1} << 33;
inline constexpr std::uint64_t v4_nc = std::uint64_t{1} << 34;
inline constexpr std::uint64_t alias = std::uint64_t{1} << 35;
inline constexpr std::uint64_t altact_sig = std::uint64_t{1} << 37;

/// What OTP 25 requires of a peer.
inline constexpr std::uint64_t mandatory_25 = extended_references | extended_pids_ports | fun_tags | new_fun_tags |
                                              new_floats | bit_binaries | map_tag | export_ptr_tag | utf8_atoms |
                                              handshake_23 | big_creation;
/// What otter requires of a peer: the OTP 25 set plus UNLINK_ID and V4_NC, which
/// OTP 26+ require (OTP 25 sends them too).
inline constexpr std::uint64_t mandatory = mandatory_25 | unlink_id | v4_nc;

/// What otter advertises (0x4_0707_0FBD): `mandatory`, MANDATORY_25_DIGEST,
/// PUBLISHED (cleared for a hidden node), DIST_MONITOR (else erts never sends
/// MONITOR_P) and DIST_MONITOR_NAME (gen:call monitors {Name, Node}). Not
/// advertised, because otter's runtime does not implement them: DIST_HDR_ATOM_CACHE
/// and FRAGMENTS (so frames are pass-through: 112, 131 ctrl, 131 payload), SPAWN,
/// ALIAS, NAME_ME, EXIT_PAYLOAD, SEND_SENDER, ALTACT_SIG, and the Latin-1
/// SMALL_ATOM_TAGS / HIDDEN_ATOM_CACHE, which UTF8_ATOMS makes unnecessary.
inline constexpr std::uint64_t default_flags = mandatory | mandatory_25_digest | published | dist_monitor |
                                               dist_monitor_name;
static_assert(default_flags == 0x4'0707'0FBDull);
} // namespace dflag

/// "EXTENDED_REFERENCES|UTF8_ATOMS|..." for the set bits (unknown bits as "bit N").
std::string dflag_names(std::uint64_t flags);

/// The acceptor's answer to a node that asks to connect.
enum class status_reply {
  ok,              ///< go on
  ok_simultaneous, ///< go on; our own attempt to that node is abandoned
  nok,             ///< a simultaneous attempt of ours wins: refuse this one
  not_allowed,     ///< the node may not connect
  alive,           ///< a connection to that node is up: ask it whether to replace it
};

struct handshake_config {
  /// Our full node name, `alive@host`, exactly as peers dial it.
  std::string our_name;
  /// Our creation from epmd (nonzero).
  std::uint32_t our_creation = 0;
  std::string cookie;
  std::uint64_t flags = dflag::default_flags;
  /// A hidden node does not advertise PUBLISHED.
  bool hidden = false;
  /// Source of our challenges; empty: std::random_device (the OS's CSPRNG).
  std::function<std::uint32_t()> random_challenge;
};

/// One side of a handshake. Messages are 2-byte length prefixed; feed() takes any
/// split of the peer's bytes and appends what to send to `out`. Once done, the
/// connection continues with 4-byte framed data and leftover() holds what the
/// peer sent after its last handshake message. Not thread-safe; no I/O, no timers
/// (the caller bounds each step's time, as Erlang's net_setuptime does).
class handshake {
public:
  enum class state { in_progress, done, failed };

  /// The side that dialed: it must find `expected_peer` (`alive@host`) at the other end.
  static handshake initiator(const handshake_config& config, std::string expected_peer);
  /// The side that accepted: `decide` answers each node that asks (called once,
  /// with its name and creation; creation is 0 for an old 'n' send_name, whose
  /// creation comes later).
  static handshake acceptor(const handshake_config& config,
                            std::function<status_reply(std::string_view peer_name, std::uint32_t creation)> decide);

  /// The initiator writes its send_name; the acceptor writes nothing.
  void start(std::string& out);
  /// Takes bytes from the peer; appends bytes to send to `out`. After done, more
  /// bytes are appended to leftover(); after failed they are ignored.
  void feed(std::span<const std::byte> in, std::string& out);
  void feed(std::string_view in, std::string& out) {
    feed(std::as_bytes(std::span<const char>(in.data(), in.size())), out);
  }

  state get_state() const noexcept { return state_; }
  /// Why it failed ("wrong cookie from x@y", "peer x@y refused: not_allowed", ...).
  const std::string& error() const noexcept { return error_; }

  /// Initiator: the peer answered "nok" (its own attempt to us wins); failed.
  bool refused_simultaneous() const noexcept { return refused_simultaneous_; }
  /// Initiator: the peer answered "alive" (it has a connection to us already).
  /// The handshake waits for answer_alive.
  bool alive_reply_needed() const noexcept { return alive_pending_; }
  /// Initiator, after "alive": true drops the old connection and goes on; false
  /// sends "false" and fails.
  void answer_alive(bool replace, std::string& out);

  // After done:
  const std::string& peer_name() const noexcept { return peer_name_; }
  std::uint32_t peer_creation() const noexcept { return peer_creation_; }
  std::uint64_t peer_flags() const noexcept { return peer_flags_; }
  /// Ours & theirs: what both sides may use on the connection.
  std::uint64_t negotiated_flags() const noexcept { return our_flags_ & peer_flags_; }
  std::span<const std::byte> leftover() const noexcept {
    return std::as_bytes(std::span<const char>(leftover_.data(), leftover_.size()));
  }

  /// The largest handshake message accepted (a name is at most 255 bytes).
  static constexpr std::size_t max_message = 1024;

private:
  enum class role { initiator, acceptor };
  enum class step { send_name, status, alive_answer, challenge, complement, challenge_reply, challenge_ack, finished };

  handshake(const handshake_config& config, role r);
  void pump(std::string& out);
  void handle(std::string_view msg, std::string& out);
  void on_send_name(std::string_view msg, std::string& out);
  void on_status(std::string_view msg, std::string& out);
  void on_alive_answer(std::string_view msg, std::string& out);
  void on_challenge(std::string_view msg, std::string& out);
  void on_complement(std::string_view msg);
  void on_challenge_reply(std::string_view msg, std::string& out);
  void on_challenge_ack(std::string_view msg);
  void send_challenge(std::string& out);
  void fail(std::string why);
  std::string digest(std::uint32_t challenge) const;
  std::uint32_t new_challenge();

  handshake_config config_;
  role role_;
  step step_;
  state state_ = state::in_progress;
  std::uint64_t our_flags_;
  std::string expected_peer_;
  std::function<status_reply(std::string_view, std::uint32_t)> decide_;
  std::string in_;
  std::string leftover_;
  std::string error_;
  std::string peer_name_;
  std::uint32_t peer_creation_ = 0;
  std::uint64_t peer_flags_ = 0;
  std::uint32_t our_challenge_ = 0;
  bool old_send_name_ = false;
  bool refused_simultaneous_ = false;
  bool alive_pending_ = false;
};

} // namespace otter::dist
