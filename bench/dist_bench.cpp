// The distribution frame path without processes or sockets: what a remote send
// costs to encode ({2,'',Pid} control + payload, lib/dist/frame.hpp) and what a
// received frame costs to cut from the stream and decode.

#include <benchmark/benchmark.h>

#include <otter/dist/node_table.hpp>
#include <otter/dist/term.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "etf.hpp"
#include "frame.hpp"

namespace {

using otter::term;
using namespace otter::dist;

// Node a sends to a process of node b; both are in the node table as they
// would be once connected.
struct two_nodes {
  std::uint16_t a_index = intern_node("a@localhost", 5);
  std::uint16_t b_index = intern_node("b@localhost", 6);
  local_node a{"a@localhost", 5, a_index};
  local_node b{"b@localhost", 6, b_index};
  otter::pid to = make_remote_pid(b_index, 42, 0);   // b's process, seen from a
  otter::pid from = otter::pid::make(0, 7, 1);       // a's process
};

const two_nodes& nodes() {
  static const two_nodes n;
  return n;
}

// The payloads of the two workloads: dist_throughput's {msg, I}, dist_pingpong's {Pid, N}.
term payload(bool pingpong, long i) {
  return pingpong ? term::tuple({term(nodes().from), term(i)}) : term::tuple({term::atom("msg"), term(i)});
}

// What a remote otter::send does in the sender (the payload, with its 131 byte)
// and then the connection (the control tuple and the frame), per message.
void encode_send_frame(benchmark::State& state) {
  const two_nodes& n = nodes();
  const bool pingpong = state.range(0) != 0;
  std::string out, encoded;
  long i = 0;
  std::size_t bytes = 0;
  for (auto _ : state) {
    encoded.clear();
    encode(payload(pingpong, ++i), encoded, n.a, true);
    append_frame_encoded(out, term::tuple({term(ctrl::send), term::atom(""), term(n.to)}), encoded, n.a);
    if (out.size() > (64u << 10)) { // a write's worth, then start again
      bytes += out.size();
      out.clear();
    }
  }
  benchmark::DoNotOptimize(out.data());
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes + out.size()));
}
BENCHMARK(encode_send_frame)->Arg(0)->Arg(1)->ArgName("pingpong");

// The connection's part alone: the control tuple and the frame around an encoded payload.
void append_frame_only(benchmark::State& state) {
  const two_nodes& n = nodes();
  std::string encoded, out;
  encode(payload(false, 12345), encoded, n.a, true);
  for (auto _ : state) {
    append_frame_encoded(out, term::tuple({term(ctrl::send), term::atom(""), term(n.to)}), encoded, n.a);
    if (out.size() > (64u << 10)) out.clear();
  }
  benchmark::DoNotOptimize(out.data());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(append_frame_only);

// For comparison: the same frame with the control tuple's bytes encoded once
// per destination and copied (what a connection could keep per remote pid);
// checked to be byte for byte what append_frame_encoded writes.
void append_frame_cached_control(benchmark::State& state) {
  const two_nodes& n = nodes();
  std::string encoded, control, expected, out;
  encode(payload(false, 12345), encoded, n.a, true);
  encode(term::tuple({term(ctrl::send), term::atom(""), term(n.to)}), control, n.a, true);
  auto append = [&](std::string& to) {
    const std::size_t len = 1 + control.size() + encoded.size();
    const char header[5] = {static_cast<char>(len >> 24), static_cast<char>(len >> 16), static_cast<char>(len >> 8),
                            static_cast<char>(len), static_cast<char>(112)};
    to.append(header, 5);
    to.append(control);
    to.append(encoded);
  };
  append(out);
  append_frame_encoded(expected, term::tuple({term(ctrl::send), term::atom(""), term(n.to)}), encoded, n.a);
  if (out != expected) {
    state.SkipWithError("the cached control bytes differ from append_frame_encoded's");
    return;
  }
  for (auto _ : state) {
    append(out);
    if (out.size() > (64u << 10)) out.clear();
  }
  benchmark::DoNotOptimize(out.data());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(append_frame_cached_control);

// The sender's part alone: encoding the payload term.
void encode_payload_only(benchmark::State& state) {
  const two_nodes& n = nodes();
  std::string encoded;
  long i = 0;
  for (auto _ : state) {
    encoded.clear();
    encode(payload(false, ++i), encoded, n.a, true);
    benchmark::DoNotOptimize(encoded.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(encode_payload_only);

// 1,000 send frames as node b receives them.
std::string stream_of_frames(bool pingpong) {
  const two_nodes& n = nodes();
  std::string out, encoded;
  for (long i = 0; i < 1000; ++i) {
    encoded.clear();
    encode(payload(pingpong, i), encoded, n.a, true);
    append_frame_encoded(out, term::tuple({term(ctrl::send), term::atom(""), term(n.to)}), encoded, n.a);
  }
  return out;
}

// One frame body decoded (control and payload) by the receiving node.
void parse_send_frame(benchmark::State& state) {
  const two_nodes& n = nodes();
  const bool pingpong = state.range(0) != 0;
  const std::string stream = stream_of_frames(pingpong);
  frame_reader reader(64u << 20);
  reader.append(std::string_view(stream).substr(0, stream.size() / 1000)); // the first frame
  std::string_view body;
  if (reader.next(body) != frame_reader::status::frame) {
    state.SkipWithError("the frame did not come out whole");
    return;
  }
  const std::string frame(body);
  control_message m;
  std::string error;
  for (auto _ : state) {
    if (!parse_frame(frame, m, n.b, error)) {
      state.SkipWithError(error.c_str());
      return;
    }
    benchmark::DoNotOptimize(m.payload);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(parse_send_frame)->Arg(0)->Arg(1)->ArgName("pingpong");

// A read of 1,000 frames: cut into frames by frame_reader and each decoded.
void read_frames(benchmark::State& state) {
  const two_nodes& n = nodes();
  const std::string stream = stream_of_frames(false);
  frame_reader reader(64u << 20);
  control_message m;
  std::string error;
  std::int64_t frames = 0;
  for (auto _ : state) {
    reader.append(stream);
    std::string_view body;
    for (;;) {
      const frame_reader::status st = reader.next(body);
      if (st == frame_reader::status::need_more) break;
      if (st != frame_reader::status::frame || !parse_frame(body, m, n.b, error)) {
        state.SkipWithError("a frame did not decode");
        return;
      }
      ++frames;
    }
  }
  state.SetItemsProcessed(frames);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(stream.size()));
}
BENCHMARK(read_frames);

} // namespace

BENCHMARK_MAIN();
