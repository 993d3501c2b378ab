// libFuzzer harness for the external term format decoder: any input decodes or
// fails cleanly; a term that decodes encodes to bytes that decode to an equal
// term, and encoding that term again gives the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "../../lib/dist/etf.hpp"

#include <otter/dist/node_table.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace otter::dist;
  static const std::uint16_t index = intern_node("fuzz@host", 7);
  const local_node me{"fuzz@host", 7, index};
  decode_limits lim;
  lim.max_bytes = 1 << 20;
  lim.max_elements = 1 << 16;
  otter::term t;
  const auto in = std::as_bytes(std::span(data, size));
  const auto r = decode(in, t, me, true, lim);
  if (!r.ok) {
    if (r.error.empty()) std::abort();
    return 0;
  }
  if (r.consumed > size) std::abort();
  std::string once;
  encode(t, once, me);
  otter::term back;
  const auto r2 = decode(std::as_bytes(std::span(once.data(), once.size())), back, me, true, {});
  if (!r2.ok || r2.consumed != once.size() || !(back == t)) std::abort();
  std::string twice;
  encode(back, twice, me);
  if (twice != once) std::abort();
  (void)otter::to_string(t);
  return 0;
}
