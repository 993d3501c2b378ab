// Encoding and decoding of Erlang terms (the external term format). The same
// terms are measured in Erlang by bench/term_bench.erl, for comparison.

#include <benchmark/benchmark.h>

#include <otter/dist/node_table.hpp>
#include <otter/dist/term.hpp>

#include "../lib/dist/etf.hpp"

namespace {

using otter::term;
using namespace otter::dist;

const local_node& me() {
  static const local_node l{"bench@localhost", 3, intern_node("bench@localhost", 3)};
  return l;
}

// {Pid, {add, 5}}: the shape of a small message.
term small_message() { return term::tuple({term(otter::pid::make(0, 42, 1)), term::tuple({term::atom("add"), 5})}); }

// [1000, 1001, ...]: 100 integers too large for STRING_EXT.
term int_list() {
  std::vector<term> v;
  for (int i = 0; i < 100; ++i) v.emplace_back(1000 + i);
  return term::list(std::move(v));
}

term kib_binary() { return term::binary(std::string(1024, 'x')); }

// #{name => <<"otter">>, id => 7, tags => [a, b, c], inner => #{x => 1.5, y => -2.5, z => {1, 2}}}
term nested_map() {
  return term::map({
      {term::atom("name"), term::binary("otter")},
      {term::atom("id"), 7},
      {term::atom("tags"), term::list({term::atom("a"), term::atom("b"), term::atom("c")})},
      {term::atom("inner"),
       term::map({{term::atom("x"), 1.5}, {term::atom("y"), -2.5}, {term::atom("z"), term::tuple({1, 2})}})},
  });
}

void encode_bench(benchmark::State& state, term (*make)()) {
  const term t = make();
  std::string out;
  for (auto _ : state) {
    out.clear();
    encode(t, out, me());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * out.size()));
}

void decode_bench(benchmark::State& state, term (*make)()) {
  std::string bytes;
  encode(make(), bytes, me());
  const auto in = std::as_bytes(std::span(bytes.data(), bytes.size()));
  for (auto _ : state) {
    term t;
    const auto r = decode(in, t, me());
    benchmark::DoNotOptimize(r.ok);
    benchmark::DoNotOptimize(t);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}

} // namespace

BENCHMARK_CAPTURE(encode_bench, small_message, small_message);
BENCHMARK_CAPTURE(decode_bench, small_message, small_message);
BENCHMARK_CAPTURE(encode_bench, int_list_100, int_list);
BENCHMARK_CAPTURE(decode_bench, int_list_100, int_list);
BENCHMARK_CAPTURE(encode_bench, binary_1k, kib_binary);
BENCHMARK_CAPTURE(decode_bench, binary_1k, kib_binary);
BENCHMARK_CAPTURE(encode_bench, nested_map, nested_map);
BENCHMARK_CAPTURE(decode_bench, nested_map, nested_map);

BENCHMARK_MAIN();
