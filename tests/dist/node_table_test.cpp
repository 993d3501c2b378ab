#include <otter/dist/node_table.hpp>

#include <thread>
#include <vector>

#include <catch2/catch.hpp>


namespace {
// "<N" + rest, built without operator+ on a literal (g++ 12 warns falsely on it).
std::string remote_text(unsigned n, const char* rest) {
  std::string s = "<";
  s += std::to_string(n);
  s += rest;
  return s;
}
} // namespace

using namespace otter::dist;

TEST_CASE("node table - index 0 is nonode@nohost with creation 0", "[node_table]") {
  CHECK(node_at(0).name == "nonode@nohost");
  CHECK(node_at(0).creation == 0);
  CHECK(intern_node("nonode@nohost", 0) == 0);
}

TEST_CASE("node table - a name and creation intern to one index", "[node_table]") {
  const auto a = intern_node("x@h", 5);
  CHECK(intern_node("x@h", 5) == a);
  CHECK(intern_node("x@h", 6) != a);
  CHECK(node_at(a).name == "x@h");
  CHECK(node_at(a).creation == 5);
}

TEST_CASE("node table - interning from many threads gives one index per node", "[node_table]") {
  std::vector<std::thread> ts;
  std::vector<std::uint16_t> got(8);
  for (int i = 0; i < 8; ++i)
    ts.emplace_back([&, i] { got[i] = intern_node("race@h", 1); });
  for (auto& t : ts) t.join();
  for (auto g : got) CHECK(g == got[0]);
}

TEST_CASE("remote pid - small parts round-trip inline", "[node_table]") {
  const auto n = intern_node("r@h", 1);
  const otter::pid p = make_remote_pid(n, 1234, 5);
  CHECK(p.is_remote());
  CHECK((p.bits() >> 63) == 0);
  const auto r = remote_parts(p);
  CHECK(r.node == n);
  CHECK(r.id == 1234);
  CHECK(r.serial == 5);
  CHECK(node_index_of(p) == n);
  CHECK(make_remote_pid(n, 1234, 5) == p);
}

TEST_CASE("remote pid - large parts round-trip through the overflow table", "[node_table]") {
  const auto n = intern_node("r@h", 1);
  const otter::pid p = make_remote_pid(n, 0xffffffffu, 0xfffffffeu);
  CHECK(p.is_remote());
  CHECK((p.bits() >> 63) == 1);
  const auto r = remote_parts(p);
  CHECK(r.node == n);
  CHECK(r.id == 0xffffffffu);
  CHECK(r.serial == 0xfffffffeu);
  CHECK(make_remote_pid(n, 0xffffffffu, 0xfffffffeu) == p);
  CHECK(make_remote_pid(n, 0xffffffffu, 0xfffffffdu) != p);
}

TEST_CASE("local pid - Erlang ID is slot and scheduler, Serial the generation", "[node_table]") {
  const otter::pid p = otter::pid::make(3, 0x123456, 0xdeadbeef);
  CHECK(!p.is_remote());
  const auto l = local_pid_parts(p);
  CHECK(l.id == 0x12345603u);
  CHECK(l.serial == 0xdeadbeefu);
  CHECK(local_pid_from(l.id, l.serial) == p);
  CHECK(node_index_of(p, 9) == 9);
}

TEST_CASE("remote pid - prints as <N.ID.SERIAL>", "[node_table]") {
  const auto n = intern_node("print@h", 2);
  CHECK(otter::to_string(make_remote_pid(n, 7, 8)) == remote_text(n, ".7.8>"));
}
