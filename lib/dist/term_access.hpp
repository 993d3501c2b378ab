#pragma once
// Building terms in place: the decoder fills a tuple's, a list's or a map's
// elements before anyone else can see the term, so it needs no temporary vector.

#include <otter/dist/term.hpp>

namespace otter {

struct term_access {
  /// A tuple of `n` (≥ 1) elements, all `[]`; fill them through `*elems`.
  static term make_tuple(std::size_t n, term** elems);
  /// A list of `n` (≥ 1) elements, all `[]`, and a `[]` tail; fill both.
  /// The tail must not be a non-empty list (call normalize_list after filling).
  static term make_list(std::size_t n, term** elems, term** tail);
  /// After a list's tail was filled: a non-empty list tail is spliced in.
  static void normalize_list(term& list);
  /// A map of `n` (≥ 1) entries, all `[] => []`; fill them, then call finish_map.
  static term make_map(std::size_t n, std::pair<term, term>** entries);
  /// Sorts a filled map's entries; false if two keys are equal.
  static bool finish_map(term& map);
  /// Makes `out` a binary (`bits_in_last` 0 = whole bytes) or a bitstring of `n`
  /// bytes and returns them, to fill. (They may be inside `out`: fill before moving it.)
  static char* make_bytes(term& out, term::kind k, std::size_t n, std::uint8_t bits_in_last);
  /// Makes `out` an atom of `n` bytes and returns them, to fill (valid UTF-8).
  static char* make_atom(term& out, std::size_t n);
};

} // namespace otter
