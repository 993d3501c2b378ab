#include <otter/dist/node_table.hpp>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace otter::dist {

namespace {

// Entries are added under a mutex and never move or die: readers find them
// lock-free through chunk pointers and per-slot pointers published with release.
constexpr std::size_t node_chunk = 256;
constexpr std::size_t node_capacity = 0xffff; // 0xffff itself means "full"

std::string key(std::string_view name, std::uint32_t creation) {
  std::string k(reinterpret_cast<const char*>(&creation), sizeof creation);
  k += name;
  return k;
}

struct node_table {
  std::mutex mu;
  std::unordered_map<std::string, std::uint16_t> index; // key(name, creation)
  std::array<std::atomic<std::array<std::atomic<const node_entry*>, node_chunk>*>, node_capacity / node_chunk + 1> chunks{};
  std::size_t count = 0;

  node_table() { add("nonode@nohost", 0); }

  std::uint16_t add(std::string_view name, std::uint32_t creation) {
    const std::size_t i = count;
    auto* chunk = chunks[i / node_chunk].load(std::memory_order_relaxed);
    if (chunk == nullptr) {
      chunk = new std::array<std::atomic<const node_entry*>, node_chunk>{};
      chunks[i / node_chunk].store(chunk, std::memory_order_release);
    }
    auto* e = new node_entry{std::string(name), creation};
    (*chunk)[i % node_chunk].store(e, std::memory_order_release);
    index.emplace(key(name, creation), static_cast<std::uint16_t>(i));
    ++count;
    return static_cast<std::uint16_t>(i);
  }
};

node_table& nodes() {
  // Never destroyed: pids naming its entries may be used until the very end.
  static node_table* t = new node_table;
  return *t;
}

// Remote (ID, Serial) pairs too large for a pid's inline bits.
constexpr std::size_t pair_chunk = 4096;
constexpr std::size_t pair_chunks = 65536; // 2^28 pairs

struct pair_table {
  std::mutex mu;
  std::unordered_map<std::uint64_t, std::uint64_t> index;
  std::array<std::atomic<std::array<std::atomic<std::uint64_t>, pair_chunk>*>, pair_chunks> chunks{};
  std::size_t count = 0;
};

pair_table& pairs() {
  static pair_table* t = new pair_table;
  return *t;
}

constexpr std::uint64_t remote_tag = 0xfe;
constexpr std::uint64_t overflow_bit = std::uint64_t{1} << 63;

std::atomic<std::uint16_t> local_index_{0};

} // namespace

std::uint16_t intern_node(std::string_view name, std::uint32_t creation) {
  node_table& t = nodes();
  std::lock_guard lock(t.mu);
  auto it = t.index.find(key(name, creation));
  if (it != t.index.end()) return it->second;
  if (t.count >= node_capacity) return 0xffff;
  return t.add(name, creation);
}

const node_entry& node_at(std::uint16_t index) {
  node_table& t = nodes();
  auto* chunk = t.chunks[index / node_chunk].load(std::memory_order_acquire);
  return *(*chunk)[index % node_chunk].load(std::memory_order_acquire);
}

pid make_remote_pid(std::uint16_t node, std::uint32_t id, std::uint32_t serial) {
  const std::uint64_t head = remote_tag | (std::uint64_t{node} << 8);
  if (id < (1u << 28) && serial < (1u << 11))
    return pid::from_bits(head | (std::uint64_t{id} << 24) | (std::uint64_t{serial} << 52));
  pair_table& t = pairs();
  const std::uint64_t key = (std::uint64_t{id} << 32) | serial;
  std::lock_guard lock(t.mu);
  auto it = t.index.find(key);
  std::uint64_t i;
  if (it != t.index.end()) {
    i = it->second;
  } else {
    if (t.count >= pair_chunk * pair_chunks) return pid{};
    i = t.count++;
    auto* chunk = t.chunks[i / pair_chunk].load(std::memory_order_relaxed);
    if (chunk == nullptr) {
      chunk = new std::array<std::atomic<std::uint64_t>, pair_chunk>{};
      t.chunks[i / pair_chunk].store(chunk, std::memory_order_release);
    }
    (*chunk)[i % pair_chunk].store(key, std::memory_order_release);
    t.index.emplace(key, i);
  }
  return pid::from_bits(head | overflow_bit | (i << 24));
}

remote_pid_parts remote_parts(pid p) {
  const std::uint64_t b = p.bits();
  const auto node = static_cast<std::uint16_t>(b >> 8);
  if ((b & overflow_bit) == 0)
    return {node, static_cast<std::uint32_t>((b >> 24) & 0xfffffff), static_cast<std::uint32_t>((b >> 52) & 0x7ff)};
  const std::uint64_t i = (b & ~overflow_bit) >> 24;
  pair_table& t = pairs();
  auto* chunk = t.chunks[i / pair_chunk].load(std::memory_order_acquire);
  const std::uint64_t key = (*chunk)[i % pair_chunk].load(std::memory_order_acquire);
  return {node, static_cast<std::uint32_t>(key >> 32), static_cast<std::uint32_t>(key)};
}

std::uint16_t node_index_of(pid p, std::uint16_t local_index) {
  return p.is_remote() ? static_cast<std::uint16_t>(p.bits() >> 8) : local_index;
}

local_pid_parts_t local_pid_parts(pid p) {
  return {(p.slot() << 8) | p.scheduler(), p.generation()};
}

pid local_pid_from(std::uint32_t id, std::uint32_t serial) {
  return pid::make(id & 0xff, id >> 8, serial);
}

std::optional<otter::ref> term_ref_to_local(const term_ref& r, std::uint16_t local_index) {
  if (r.node != local_index || r.len != 3 || r.id[2] != 0) return std::nullopt;
  return otter::ref::from_bits(std::uint64_t{r.id[0]} | (std::uint64_t{r.id[1]} << 32));
}

std::uint16_t local_node_index() noexcept { return local_index_.load(std::memory_order_acquire); }
void set_local_node_index(std::uint16_t index) noexcept { local_index_.store(index, std::memory_order_release); }

} // namespace otter::dist
