#pragma once
// otter::term — an Erlang value (integer, atom, tuple, list, map, pid...) as a C++ value.

#include <otter/detail/config.hpp>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <otter/pid.hpp>
#include <otter/ref.hpp>

namespace otter {

/// An Erlang reference: the node it was made on (an index into the node table,
/// otter/dist/node_table.hpp, which includes the node's creation) and 1 to 5
/// 32-bit words. Two references are equal when all of that is equal.
struct term_ref {
  std::uint16_t node = 0;
  std::uint8_t len = 0;
  std::uint32_t id[5] = {};
  friend bool operator==(const term_ref& a, const term_ref& b) noexcept;
};

/// An Erlang value. A value type: copies are cheap (containers, binaries, long
/// atoms and big integers share an immutable, reference-counted heap part, so a
/// copy never aliases anything mutable), moves are cheaper still, and `==` is
/// Erlang's exact equality (`=:=`). A term is 24 bytes.
///
/// Atoms are kept by name (names up to 16 bytes inline), not in a process-wide
/// table, so decoding hostile input cannot exhaust an atom table.
///
/// The ordering `<=>` is Erlang's term order (number < atom < reference < fun <
/// port < pid < tuple < map < nil < list < bitstring), made total the way `=:=`
/// is: an integer sorts just before the float equal to it. Pids sort by their
/// bits and references and ports by node index, not by node name.
class term {
public:
  enum class kind : std::uint8_t {
    integer,     // fits in std::int64_t
    big_integer, // beyond std::int64_t
    floating,
    atom,
    binary,
    bitstring, // a binary whose bit length is not a multiple of 8
    nil,
    list, // a non-empty list, proper or improper
    tuple,
    map,
    pid,
    port,
    reference,
    fun, // a fun or an external fun (fun M:F/A), kept as its encoding
  };

  /// `[]`.
  term() noexcept : k_(kind::nil) {}
  term(int v) noexcept : term(static_cast<long long>(v)) {}
  term(long v) noexcept : term(static_cast<long long>(v)) {}
  term(long long v) noexcept : k_(kind::integer) { v_.i = v; }
  term(unsigned v) noexcept : term(static_cast<long long>(v)) {}
  term(unsigned long v) : term(static_cast<unsigned long long>(v)) {}
  term(unsigned long long v);
  term(double v) noexcept : k_(kind::floating) { v_.d = v; }
  /// A local or a remote pid.
  term(otter::pid p) noexcept : k_(kind::pid) { v_.u = p.bits(); }
  // No implicit conversion from bool or text: say term::atom("true") or term::binary("...").
  term(bool) = delete;
  term(const char*) = delete;

  term(const term& o) noexcept : v_(o.v_), k_(o.k_), heap_(o.heap_), a8_(o.a8_), pad_(o.pad_), a32_(o.a32_) {
    if (heap_) retain();
  }
  term(term&& o) noexcept : v_(o.v_), k_(o.k_), heap_(o.heap_), a8_(o.a8_), pad_(o.pad_), a32_(o.a32_) {
    o.heap_ = 0;
    o.k_ = kind::nil;
  }
  term& operator=(const term& o) noexcept {
    if (o.heap_) o.retain();
    if (heap_) release();
    assign_bits(o);
    return *this;
  }
  term& operator=(term&& o) noexcept {
    if (this != &o) {
      if (heap_) release();
      assign_bits(o);
      o.heap_ = 0;
      o.k_ = kind::nil;
    }
    return *this;
  }
  ~term() {
    if (heap_) release();
  }

  /// The atom `name` (UTF-8). Erlang allows at most 255 characters; so does the encoder.
  static term atom(std::string_view name);
  static term binary(std::string_view bytes);
  static term binary(std::span<const std::byte> bytes);
  /// A bitstring of `bits` bits (the first `bits` of `bytes`, most significant bit first).
  /// A multiple of 8 gives a binary.
  static term bitstring(std::string_view bytes, std::size_t bits);
  static term tuple(std::initializer_list<term> elements);
  static term tuple(std::vector<term> elements);
  static term list(std::initializer_list<term> elements);
  /// `[E1, ..., En | tail]`: improper when `tail` is not `[]`. No elements give `tail` itself.
  static term list(std::vector<term> elements, term tail = term());
  /// A map. Entries are kept in term order; of duplicate keys the last one wins.
  static term map(std::vector<std::pair<term, term>> entries);
  static term reference(const term_ref& r);
  /// A local otter::ref as an Erlang reference of the node `local_node_index`:
  /// three words, (low 32 bits, high 32 bits, 0). term_ref_to_local (node_table.hpp) undoes it.
  static term from_ref(otter::ref local, std::uint16_t local_node_index);
  /// A port `#Port<node.id>`; `v4` keeps that it came as V4_PORT_EXT (a 64-bit id).
  static term port(std::uint16_t node, std::uint64_t id, bool v4 = false);
  /// A fun or an export, given as its encoding (from its tag byte on) and the node
  /// index of its creator's pid (0 for an export). Used by the decoder.
  static term fun(std::string_view encoding, std::uint16_t node);
  /// An integer from its sign and its magnitude (little-endian bytes); a value that
  /// fits in std::int64_t gives kind::integer.
  static term integer(bool negative, std::span<const std::uint8_t> magnitude_le);

  kind type() const noexcept { return k_; }

  bool is_atom() const noexcept { return k_ == kind::atom; }
  bool is_atom(std::string_view name) const noexcept { return k_ == kind::atom && atom_name() == name; }
  /// Precondition: is_atom().
  std::string_view atom_name() const;

  /// An integer of either kind.
  bool is_integer() const noexcept { return k_ == kind::integer || k_ == kind::big_integer; }
  /// The value, if it is an integer within std::int64_t.
  std::optional<std::int64_t> to_int64() const noexcept;
  /// The value, if it is an integer within std::uint64_t.
  std::optional<std::uint64_t> to_uint64() const noexcept;
  /// A big integer's sign and magnitude (little-endian bytes, no leading zero byte).
  /// Precondition: type() == kind::big_integer.
  bool big_negative() const;
  std::span<const std::uint8_t> big_magnitude() const;

  bool is_float() const noexcept { return k_ == kind::floating; }
  /// Precondition: is_float().
  double as_double() const;

  bool is_tuple() const noexcept { return k_ == kind::tuple; }
  bool is_tuple(std::size_t arity) const noexcept { return k_ == kind::tuple && size() == arity; }
  /// `[]` or a non-empty list.
  bool is_list() const noexcept { return k_ == kind::nil || k_ == kind::list; }
  bool is_nil() const noexcept { return k_ == kind::nil; }
  /// A list whose tail is `[]` (and `[]` itself).
  bool is_proper_list() const noexcept;
  bool is_map() const noexcept { return k_ == kind::map; }
  bool is_binary() const noexcept { return k_ == kind::binary; }
  bool is_pid() const noexcept { return k_ == kind::pid; }
  bool is_reference() const noexcept { return k_ == kind::reference; }

  /// Tuple arity, list length (the proper part), map size, binary bytes
  /// (bitstring: bytes holding its bits), atom name bytes; 0 for the others.
  std::size_t size() const noexcept;
  /// Tuple or list element `i`. Precondition: i < size().
  const term& operator[](std::size_t i) const;
  /// A tuple's or a list's elements (empty for the others).
  std::span<const term> elements() const noexcept;
  /// A list's tail: `[]` for a proper list (and for every non-list).
  const term& tail() const noexcept;
  /// A binary's or a bitstring's bytes (a bitstring's last byte holds its last bits, high first).
  std::string_view binary_bytes() const;
  /// A binary's or a bitstring's length in bits.
  std::size_t bit_size() const noexcept;

  /// Precondition: is_pid().
  otter::pid as_pid() const;
  /// Precondition: is_reference().
  const term_ref& as_ref() const;
  /// A port's node index and id. Precondition: type() == kind::port.
  std::uint16_t port_node() const;
  std::uint64_t port_id() const;
  bool port_is_v4() const;
  /// A fun's encoding (from its tag byte on) and its node index. Precondition: type() == kind::fun.
  std::string_view fun_encoding() const;
  std::uint16_t fun_node() const;

  /// The value under `key` in a map, or null (also when this is not a map).
  const term* find(const term& key) const;
  /// A map's entries, in term order of their keys.
  std::span<const std::pair<term, term>> map_entries() const;

  friend bool operator==(const term& a, const term& b) noexcept;
  friend std::strong_ordering operator<=>(const term& a, const term& b) noexcept;

private:
  struct rep;
  struct seq_rep;
  struct map_rep;
  struct bytes_rep;
  struct ref_rep;
  friend struct term_access;

  bool heap() const noexcept { return heap_ != 0; }
  void assign_bits(const term& o) noexcept {
    v_ = o.v_;
    k_ = o.k_;
    heap_ = o.heap_;
    a8_ = o.a8_;
    pad_ = o.pad_;
    a32_ = o.a32_;
  }
  void release() noexcept;
  void retain() const noexcept;

  union value {
    char inl[16];
    std::int64_t i;
    double d;
    std::uint64_t u;
    rep* p;
  } v_{};
  kind k_;
  std::uint8_t heap_ = 0; // 1: v_.p owns a reference to a heap part
  std::uint8_t a8_ = 0;   // inline atom: length; port: v4 flag
  std::uint8_t pad_ = 0;
  std::uint32_t a32_ = 0; // port: node index
};

/// Erlang's syntax: `{add,5}`, `[1,2|3]`, `<<"ab">>`, `<<1,2:3>>`, `#{a => 1}`,
/// `'hello world'`, `1.5`, pids as otter prints them (`<S.N.G>` local,
/// `<N.ID.SERIAL>` remote), `#Ref<N.a.b.c>`, `#Port<N.id>`, `#Fun<...>`.
/// Lists of integers print as lists (`[97,98]`), never as strings.
std::string to_string(const term& t);
std::ostream& operator<<(std::ostream& os, const term& t);

} // namespace otter
