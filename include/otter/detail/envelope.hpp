#pragma once
// The envelope: the one allocation that carries a message (or a runtime signal)
// from sender to receiver. Local sends link it into the receiver's mailbox;
// cross-core sends pass the pointer through the target scheduler's inbox.

#include <otter/detail/config.hpp>

#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include <otter/detail/pool.hpp>
#include <otter/dist/codec.hpp>
#include <otter/ref.hpp>

namespace otter::detail {

struct envelope;
class scheduler;

/// What kind of mailbox entry an envelope is.
enum class message_kind : std::uint8_t {
  plain,          ///< a message sent with otter::send
  reply,          ///< a call's reply: dropped unless its caller still waits for it
  server_request, ///< a gen_server call or cast
};

/// Identifies what an envelope holds. User message types get one tag per C++
/// type (its address is the type's identity); runtime signals set `on_arrival`.
struct type_tag {
  /// Destroys the payload and frees the envelope.
  void (*destroy)(envelope*) noexcept;
  /// Null for messages (they go to the mailbox of `envelope::to`); for runtime
  /// signals, what the target scheduler does with the envelope when it arrives.
  void (*on_arrival)(envelope*, scheduler&);
  message_kind kind = message_kind::plain;
  /// For replies: the tag of the call the envelope answers.
  ref (*reply_tag)(const envelope*) noexcept = nullptr;
  /// Never counted, refused or dropped by a mailbox bound (mailbox_limit.hpp).
  bool unbounded = false;
  /// For message types with a term codec (otter/dist/codec.hpp): the payload
  /// as an Erlang term, for a send to a remote pid. Null: it cannot cross.
  void (*to_term)(const envelope*, term&) = nullptr;
};

/// Message types that a mailbox bound leaves alone: the signals supervision
/// relies on (exit and DOWN messages) and what has flow control of its own
/// (a socket's active-mode messages). Specialised beside each such type.
template <class T>
inline constexpr bool exempt_from_mailbox_limit = false;

struct envelope {
  envelope* next = nullptr;
  const type_tag* tag = nullptr;
  /// Destination pid bits while in transit between cores.
  std::uint64_t to = 0;
};

template <class T>
struct message_envelope final : envelope {
  template <class... A>
  explicit message_envelope(A&&... a) : value(std::forward<A>(a)...) {}
  T value;
};

template <class T>
void destroy_message(envelope* e) noexcept {
  auto* m = static_cast<message_envelope<T>*>(e);
  m->~message_envelope<T>();
  pool_deallocate(m, sizeof(message_envelope<T>));
}

template <class T>
void message_to_term(const envelope* e, term& out) {
  out = otter::to_term(static_cast<const message_envelope<T>*>(e)->value);
}

template <class T>
constexpr void (*term_encoder() noexcept)(const envelope*, term&) {
  if constexpr (has_term_codec<T>)
    return &message_to_term<T>;
  else
    return nullptr;
}

/// The tag of messages of type T; comparing tags' addresses compares types.
template <class T>
inline constexpr type_tag message_tag{&destroy_message<T>, nullptr, message_kind::plain, nullptr,
                                      exempt_from_mailbox_limit<T>, term_encoder<T>()};

template <class T>
const type_tag* tag_of() noexcept {
  return &message_tag<T>;
}

template <class T, class... A>
envelope* make_message(A&&... a) {
  static_assert(alignof(T) <= alignof(std::max_align_t),
                "otter: over-aligned message types are not supported");
  void* mem = pool_allocate(sizeof(message_envelope<T>));
  envelope* e;
  try {
    e = new (mem) message_envelope<T>(std::forward<A>(a)...);
  } catch (...) {
    pool_deallocate(mem, sizeof(message_envelope<T>));
    throw;
  }
  e->tag = tag_of<T>();
  return e;
}

template <class T>
T& payload(envelope* e) noexcept {
  return static_cast<message_envelope<T>*>(e)->value;
}

inline void destroy(envelope* e) noexcept { e->tag->destroy(e); }

/// Frees an envelope when it goes out of scope (after its payload was used).
struct envelope_guard {
  envelope* e;
  ~envelope_guard() { destroy(e); }
};

} // namespace otter::detail
