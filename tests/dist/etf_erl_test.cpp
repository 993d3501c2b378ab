// Interop of the external term format with a real Erlang: erl encodes a corpus,
// otter decodes and re-encodes it, erl checks otter's bytes; then otter encodes
// terms of its own and erl checks that they decode to what it expects. One erl
// run, not distributed (no epmd), bounded in time, always killed at the end.
#include "../lib/dist/etf.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <otter/dist/node_table.hpp>

extern char** environ;

using otter::term;
using namespace otter::dist;

namespace {

// The corpus: term_to_binary of each, in distribution form (UTF-8 atoms).
// Entries marked canonical=false may come back in other (equally valid) bytes.
struct corpus_entry {
  const char* erl;
  bool canonical = true;
};

const corpus_entry corpus[] = {
    {"0"}, {"255"}, {"256"}, {"-1"}, {"2147483647"}, {"-2147483648"}, {"4294967296"}, {"-4294967296"},
    {"1 bsl 64"}, {"-(1 bsl 64)"}, {"1 bsl 2100"}, {"(1 bsl 63) - 1"}, {"-(1 bsl 63)"},
    {"1.5"}, {"3.141592653589793"}, {"1.0e300"}, {"-2.5e-300"}, {"0.0"},
    {"ok"}, {"''"}, {"'hello world'"}, {"'h\xc3\xa9llo'"}, {"'\xe6\x97\xa5\xe6\x9c\xac'"},
    {"list_to_atom(lists:duplicate(255, 16#65E5))"},
    {"<<>>"}, {"<<1,2,3>>"}, {"<<\"hello\">>"}, {"binary:copy(<<\"x\">>, 1024)"}, {"<<1,2:3>>"}, {"<<255:7>>"},
    {"[]"}, {"[1,2,3]"}, {"\"abc\""}, {"[256,1]"}, {"[a|b]"}, {"[1,2|3]"}, {"[[1],[2,[3]]]"},
    {"lists:duplicate(70000, 7)"}, {"lists:seq(1, 300)"},
    {"{}"}, {"{a}"}, {"{add,5}"}, {"list_to_tuple(lists:seq(1, 300))"},
    {"#{}"}, {"#{a => 1, b => 2}"}, {"#{1 => x, 1.0 => y}"}, {"#{<<\"k\">> => [#{nested => {deep, [1.5]}}]}"},
    {"maps:from_list([{I, I} || I <- lists:seq(1, 40)])", false},
    {"self()"}, {"make_ref()"}, {"hd(erlang:ports())"}, {"fun lists:map/2"}, {"fun() -> ok end"},
    {"(fun(X) -> fun() -> X end end)(42)"},
    {"{self(), {add, 5}}"}, {"[{self(), make_ref()}, #{p => hd(erlang:ports())}]"},
};
constexpr std::size_t corpus_size = std::size(corpus);

// Terms otter builds, and the Erlang expression erl must find equal to each.
struct outgoing {
  term t;
  const char* erl;
};

std::vector<outgoing> outgoing_terms() {
  std::uint8_t big[9] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
  const char bits[] = {1, 0x40};
  return {
      {term(5), "5"},
      {term(-70000), "-70000"},
      {term(1LL << 40), "1 bsl 40"},
      {term(INT64_MIN), "-(1 bsl 63)"},
      {term::integer(true, big), "-(1 bsl 64)"},
      {term(18446744073709551615ull), "(1 bsl 64) - 1"},
      {term(0.1), "0.1"},
      {term::atom("ok"), "ok"},
      {term::atom("h\xc3\xa9llo"), "'h\xc3\xa9llo'"},
      {term::atom("\xe6\x97\xa5\xe6\x9c\xac"), "'\xe6\x97\xa5\xe6\x9c\xac'"},
      {term::binary("hello"), "<<\"hello\">>"},
      {term::binary(std::string(1024, 'z')), "binary:copy(<<\"z\">>, 1024)"},
      {term::bitstring(std::string_view(bits, 2), 11), "<<1,2:3>>"},
      {term::list({104, 105}), "\"hi\""},
      {term::list({1, 2}, term(3)), "[1,2|3]"},
      {term::list({term::atom("a"), term::binary("b")}), "[a, <<\"b\">>]"},
      {term::tuple({term::atom("add"), 5}), "{add, 5}"},
      {term::tuple({}), "{}"},
      {term::map({{term::atom("a"), 1}, {term::binary("k"), term::list({1.5})}}), "#{a => 1, <<\"k\">> => [1.5]}"},
      {term::map({}), "#{}"},
  };
}

std::string hex(std::string_view b) {
  static const char d[] = "0123456789ABCDEF";
  std::string s;
  s.reserve(b.size() * 2);
  for (unsigned char c : b) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

std::string unhex(std::string_view h) {
  auto v = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string s;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) s += static_cast<char>(v(h[i]) * 16 + v(h[i + 1]));
  return s;
}

std::string script() {
  std::string s = "Corpus = [\n";
  for (std::size_t i = 0; i < corpus_size; ++i) {
    s += corpus[i].erl;
    s += i + 1 < corpus_size ? ",\n" : "\n";
  }
  s += R"(],
lists:foreach(fun(T) -> io:format("~s~n", [binary:encode_hex(term_to_binary(T, [{minor_version, 2}]))]) end, Corpus),
io:format("END~n"),
Eval = fun(S) -> {ok, Ts, _} = erl_scan:string(S), {ok, Es} = erl_parse:parse_exprs(Ts), {value, V, _} = erl_eval:exprs(Es, []), V end,
Loop = fun L() ->
  case io:get_line("") of
    eof -> ok;
    Line0 ->
      Line = unicode:characters_to_list(list_to_binary(string:trim(Line0, trailing, "\n"))),
      case string:split(Line, " ", all) of
        ["R", I, H] ->
          Same = binary_to_term(binary:decode_hex(list_to_binary(H))) =:= lists:nth(list_to_integer(I), Corpus),
          io:format("R ~s ~s~n", [I, if Same -> "same"; true -> "differs" end]);
        ["P", I, H | Expr] ->
          V = binary_to_term(binary:decode_hex(list_to_binary(H))),
          Want = Eval(lists:flatten(lists:join(" ", Expr)) ++ "."),
          io:format("P ~s ~s~n", [I, if V =:= Want -> "same"; true -> "differs" end])
      end,
      L()
  end
end,
Loop(),
io:format("DONE~n").
)";
  return s;
}

// erl with its stdin and stdout on pipes; killed when this goes away.
struct erl_process {
  pid_t pid = -1;
  int in = -1, out = -1;
  std::string buf;

  ~erl_process() {
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

bool have_erl() { return std::system("command -v erl >/dev/null 2>&1") == 0; }

} // namespace

TEST_CASE("etf with erl - Erlang's encodings decode, re-encode byte for byte and erl reads otter's", "[etf][erl]") {
  if (!have_erl()) {
    WARN("erl is not installed: interop with Erlang not tested");
    return;
  }
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::seconds(60);

  char dir_template[] = "/tmp/otter-etf-erl-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  const std::string path = dir + "/corpus.script";
  {
    std::ofstream f(path);
    f << script();
  }

  erl_process erl;
  int to_erl[2], from_erl[2];
  REQUIRE(pipe2(to_erl, O_CLOEXEC) == 0);
  REQUIRE(pipe2(from_erl, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, to_erl[0], 0);
  posix_spawn_file_actions_adddup2(&fa, from_erl[1], 1);
  const std::string eval = "case file:script(\"" + path +
                           "\") of {ok, _} -> halt(0); E -> io:format(\"ERR ~p~n\", [E]), halt(1) end.";
  const char* argv[] = {"erl", "-noshell", "-start_epmd", "false", "-eval", eval.c_str(), nullptr};
  const int rc = posix_spawnp(&erl.pid, "erl", &fa, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(to_erl[0]);
  close(from_erl[1]);
  erl.in = to_erl[1];
  erl.out = from_erl[0];
  REQUIRE(rc == 0);
  fcntl(erl.in, F_SETFL, O_NONBLOCK);

  // Pumps: writes `pending` to erl while reading its output, until `done(lines)` or the deadline.
  std::vector<std::string> lines;
  std::string pending;
  bool eof = false;
  auto pump = [&](auto done) {
    while (!done() && !eof && clock::now() < deadline) {
      pollfd fds[2] = {{erl.out, POLLIN, 0}, {pending.empty() ? -1 : erl.in, POLLOUT, 0}};
      if (poll(fds, 2, 200) < 0) break;
      if (fds[0].revents & (POLLIN | POLLHUP)) {
        char b[65536];
        const ssize_t n = read(erl.out, b, sizeof b);
        if (n <= 0) {
          eof = true;
        } else {
          erl.buf.append(b, static_cast<std::size_t>(n));
          std::size_t nl;
          while ((nl = erl.buf.find('\n')) != std::string::npos) {
            lines.push_back(erl.buf.substr(0, nl));
            erl.buf.erase(0, nl + 1);
          }
        }
      }
      if (!pending.empty() && (fds[1].revents & POLLOUT)) {
        const ssize_t n = write(erl.in, pending.data(), pending.size());
        if (n > 0) pending.erase(0, static_cast<std::size_t>(n));
        if (pending.empty()) {
          close(erl.in);
          erl.in = -1;
        }
      }
    }
  };

  pump([&] { return !lines.empty() && lines.back() == "END"; });
  INFO("erl said: " << (lines.empty() ? std::string("nothing") : lines.back()));
  REQUIRE(lines.size() == corpus_size + 1);

  const local_node me{"otter@test", 1, intern_node("otter@test", 1)};
  std::vector<term> decoded;
  for (std::size_t i = 0; i < corpus_size; ++i) {
    INFO("corpus " << i << ": " << corpus[i].erl);
    const std::string bytes = unhex(lines[i]);
    term t;
    const auto r = decode(std::as_bytes(std::span(bytes.data(), bytes.size())), t, me);
    INFO(r.error);
    REQUIRE(r.ok);
    CHECK(r.consumed == bytes.size());
    std::string again;
    encode(t, again, me);
    term t2;
    REQUIRE(decode(std::as_bytes(std::span(again.data(), again.size())), t2, me).ok);
    CHECK(t2 == t);
    if (corpus[i].canonical) CHECK(hex(again) == lines[i]);
    pending += "R " + std::to_string(i + 1) + " " + hex(again) + "\n";
    decoded.push_back(std::move(t));
  }
  // A few meanings, beyond the round trip.
  CHECK(decoded[2] == term(256));
  CHECK(decoded[8].type() == term::kind::big_integer);
  CHECK(decoded[11] == term(INT64_MAX));
  CHECK(decoded[12] == term(INT64_MIN));
  CHECK(decoded[21] == term::atom("h\xc3\xa9llo"));
  CHECK(decoded[32] == term::list({97, 98, 99}));
  CHECK(decoded[35] == term::list({1, 2}, term(3)));
  CHECK(decoded[37].size() == 70000);
  CHECK(decoded[48].as_pid().is_remote());
  CHECK(node_at(remote_parts(decoded[48].as_pid()).node).name == "nonode@nohost");
  CHECK(decoded[49].as_ref().len >= 3);
  CHECK(decoded[50].type() == term::kind::port);
  CHECK(decoded[51].type() == term::kind::fun);
  CHECK(decoded[53].type() == term::kind::fun);

  const auto out = outgoing_terms();
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::string e;
    encode(out[i].t, e, me);
    pending += "P " + std::to_string(i) + " " + hex(e) + " " + out[i].erl + "\n";
  }
  if (pending.empty()) {
    close(erl.in);
    erl.in = -1;
  }
  pump([&] { return !lines.empty() && lines.back() == "DONE"; });
  REQUIRE(!lines.empty());
  CHECK(lines.back() == "DONE");
  std::size_t r_same = 0, p_same = 0;
  for (std::size_t i = corpus_size + 1; i < lines.size(); ++i) {
    INFO(lines[i]);
    const bool same = lines[i].ends_with(" same");
    if (lines[i].starts_with("R ")) r_same += same;
    else if (lines[i].starts_with("P ")) p_same += same;
    if (lines[i] != "DONE") CHECK(same);
  }
  CHECK(r_same == corpus_size);
  CHECK(p_same == out.size());
  std::remove(path.c_str());
  rmdir(dir.c_str());
}
