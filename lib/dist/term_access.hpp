#pragma once
// Building terms in place and reading them without calls: the codec fills a
// tuple's, a list's or a map's elements before anyone else can see the term, so
// it needs no temporary vector, and it writes and reads a term's fields
// directly. (Building a term in a temporary and moving it costs a stalled load:
// the move reads whole words that were just written byte by byte.)

#include <otter/dist/term.hpp>

#include <atomic>
#include <cstring>

namespace otter {

// ---- heap parts -------------------------------------------------------------
// One allocation each, the payload trailing the header. Heap parts are
// immutable once a term holding them is visible, which is what makes sharing
// them between copies (and threads) safe: only the count changes.

struct alignas(alignof(term)) term::rep {
  std::atomic<std::uint32_t> rc{1};
  kind k;
  std::uint8_t cls = 0; // the memory's size class (term.cpp)
  explicit rep(kind kk) noexcept : k(kk) {}
};

struct term::seq_rep : rep {
  std::uint32_t n;        // elements made (all of them once the term is visible)
  std::uint8_t flat = 0;  // 1: no element has a heap part (release skips them)
  term tail;              // lists only; never a non-empty list
  seq_rep(kind kk, std::uint32_t nn) noexcept : rep(kk), n(nn) {}
  term* elems() noexcept { return reinterpret_cast<term*>(this + 1); }
};

struct term::map_rep : rep {
  std::uint32_t n;
  explicit map_rep(std::uint32_t nn) noexcept : rep(kind::map), n(nn) {}
  std::pair<term, term>* entries() noexcept { return reinterpret_cast<std::pair<term, term>*>(this + 1); }
};

struct term::bytes_rep : rep {
  std::uint32_t n;
  std::uint8_t extra; // big_integer: negative; bitstring: bits used in the last byte
  bytes_rep(kind kk, std::uint32_t nn, std::uint8_t e) noexcept : rep(kk), n(nn), extra(e) {}
  char* data() noexcept { return reinterpret_cast<char*>(this + 1); }
};

struct term::ref_rep : rep {
  term_ref r;
  explicit ref_rep(const term_ref& rr) noexcept : rep(kind::reference), r(rr) {}
};

struct term_access {
  // ---- building ----
  // The `fill_*` and `set_*` functions build into `slot`, which must be a
  // default-constructed term (`[]`, no heap part): they only write its fields.

  static void set_integer(term& slot, std::int64_t v) noexcept {
    slot.k_ = term::kind::integer;
    slot.v_.i = v;
  }
  static void set_float(term& slot, double d) noexcept {
    slot.k_ = term::kind::floating;
    slot.v_.d = d;
  }
  static void set_pid(term& slot, pid p) noexcept {
    slot.k_ = term::kind::pid;
    slot.v_.u = p.bits();
  }
  /// `{}` (no heap part).
  static void set_empty_tuple(term& slot) noexcept { slot.k_ = term::kind::tuple; }
  /// `#{}` (no heap part).
  static void set_empty_map(term& slot) noexcept { slot.k_ = term::kind::map; }
  /// A tuple of room for `n` (≥ 1) elements, none made yet: make them in
  /// order in the storage returned (placement new), telling `made` how many
  /// there are before anything can fail, and at the end.
  static term* fill_tuple(term& slot, std::size_t n);
  /// The same for a list, with a `[]` tail to fill through `*tail`. The tail
  /// must not be left a non-empty list: call normalize_list after filling it.
  static term* fill_list(term& slot, std::size_t n, term** tail);
  /// The same for a map's entries; then call finish_map.
  static std::pair<term, term>* fill_map(term& slot, std::size_t n);
  /// A filled tuple, list or map: its first `n` elements or entries are made.
  static void made(term& t, std::size_t n) noexcept {
    if (t.k_ == term::kind::map) static_cast<term::map_rep*>(t.v_.p)->n = static_cast<std::uint32_t>(n);
    else static_cast<term::seq_rep*>(t.v_.p)->n = static_cast<std::uint32_t>(n);
  }
  /// A filled tuple or list none of whose elements has a heap part.
  static void set_flat(term& t) noexcept { static_cast<term::seq_rep*>(t.v_.p)->flat = 1; }
  static bool has_heap(const term& t) noexcept { return t.heap_ != 0; }
  /// After a list's tail was filled: a non-empty list tail is spliced in.
  static void normalize_list(term& list);
  /// Sorts a filled map's entries; false if two keys are equal.
  static bool finish_map(term& map);
  /// Makes `slot` a binary (`bits_in_last` 0 = whole bytes), a bitstring, an
  /// atom (valid UTF-8) or a fun encoding of `n` bytes and returns them, to
  /// fill. (They may be inside `slot`: fill before moving it.)
  static char* fill_bytes(term& slot, term::kind k, std::size_t n, std::uint8_t bits_in_last = 0) {
    slot.k_ = k;
    if (n <= sizeof slot.v_.inl) {
      slot.a8_ = static_cast<std::uint8_t>(n);
      slot.pad_ = bits_in_last;
      return slot.v_.inl;
    }
    return fill_heap_bytes(slot, k, n, bits_in_last);
  }
  static char* fill_heap_bytes(term& slot, term::kind k, std::size_t n, std::uint8_t bits_in_last);
  static void set_fun_node(term& slot, std::uint16_t node) noexcept { slot.a32_ = node; }

  /// The same for any term (it is reset first).
  static char* make_bytes(term& out, term::kind k, std::size_t n, std::uint8_t bits_in_last) {
    out = term();
    return fill_bytes(out, k, n, bits_in_last);
  }

  // ---- reading, without a call ----

  static std::int64_t int_value(const term& t) noexcept { return t.v_.i; }
  static std::uint64_t raw_bits(const term& t) noexcept { return t.v_.u; }
  /// The bytes of an atom, a binary, a bitstring or a fun. An inline one lies
  /// in the term's own 16 bytes, all of which may be read.
  static const char* bytes_data(const term& t) noexcept {
    return t.heap_ ? static_cast<term::bytes_rep*>(t.v_.p)->data() : t.v_.inl;
  }
  static std::size_t bytes_size(const term& t) noexcept {
    return t.heap_ ? static_cast<term::bytes_rep*>(t.v_.p)->n : t.a8_;
  }
  static bool bytes_inline(const term& t) noexcept { return !t.heap_; }
  /// A tuple's or a non-empty list's elements.
  static std::span<const term> seq(const term& t) noexcept {
    if (!t.heap_) return {};
    auto* s = static_cast<term::seq_rep*>(t.v_.p);
    return {s->elems(), s->n};
  }
  /// A non-empty list's tail.
  static const term& list_tail(const term& t) noexcept { return static_cast<term::seq_rep*>(t.v_.p)->tail; }
  static std::span<const std::pair<term, term>> map_entries(const term& t) noexcept {
    if (!t.heap_) return {};
    auto* m = static_cast<term::map_rep*>(t.v_.p);
    return {m->entries(), m->n};
  }
};

} // namespace otter
