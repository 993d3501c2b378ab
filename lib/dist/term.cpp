#include <otter/dist/term.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <utility>

#include "term_access.hpp"

namespace otter {

static_assert(sizeof(term) == 24, "a term is 24 bytes");

bool operator==(const term_ref& a, const term_ref& b) noexcept {
  if (a.node != b.node || a.len != b.len) return false;
  for (int i = 0; i < 5; ++i)
    if (a.id[i] != b.id[i]) return false;
  return true;
}

namespace {

// ---- heap part memory ---------------------------------------------------------
// Decoding a message allocates a few heap parts and dropping it frees them, so
// each thread keeps the blocks it freed, by size class (64-byte steps up to
// 4 KiB, at most 256 KiB in all), for its next allocations: a pop and a push
// instead of malloc and free. A block freed by another thread than the one that
// allocated it just joins the freeing thread's cache. Sanitizer builds do
// without the cache, so that every use after free is still seen.

#if defined(__SANITIZE_ADDRESS__)
#define OTTER_REP_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define OTTER_REP_CACHE 0
#endif
#endif
#ifndef OTTER_REP_CACHE
#define OTTER_REP_CACHE 1
#endif

#if OTTER_REP_CACHE
constexpr std::size_t class_step = 64;
constexpr std::size_t classes = 64; // class c holds blocks of c * 64 bytes, c in 1..64
constexpr std::size_t cache_cap = 256 << 10;

struct free_block {
  free_block* next;
};

// Trivially destructible, so it can be used during (and after) thread exit;
// the drain below gives the blocks back and turns the cache off.
struct rep_cache {
  free_block* head[classes + 1];
  std::size_t bytes;
  bool off;
};
constinit thread_local rep_cache cache_{};

struct cache_drain {
  bool armed = false;
  ~cache_drain() {
    rep_cache& c = cache_;
    c.off = true;
    for (auto*& h : c.head)
      while (h) {
        free_block* b = h;
        h = b->next;
        ::operator delete(b);
      }
    c.bytes = 0;
  }
};
thread_local cache_drain drain_;
#endif

// A block of at least `size` bytes, and its class (0: not cached).
void* rep_alloc(std::size_t size, std::uint8_t& cls) {
#if OTTER_REP_CACHE
  const std::size_t c = (size + class_step - 1) / class_step;
  if (c <= classes) {
    rep_cache& k = cache_;
    cls = static_cast<std::uint8_t>(c);
    if (free_block* b = k.head[c]) {
      k.head[c] = b->next;
      k.bytes -= c * class_step;
      return b;
    }
    return ::operator new(c * class_step);
  }
#endif
  cls = 0;
  return ::operator new(size);
}

void rep_free(void* p, std::uint8_t cls) noexcept {
#if OTTER_REP_CACHE
  rep_cache& k = cache_;
  if (cls != 0 && !k.off && k.bytes + cls * class_step <= cache_cap) {
    if (!drain_.armed) drain_.armed = true; // registers the drain for this thread
    auto* b = static_cast<free_block*>(p);
    b->next = k.head[cls];
    k.head[cls] = b;
    k.bytes += cls * class_step;
    return;
  }
#endif
  (void)cls;
  ::operator delete(p);
}

// Makes an R with `trailing_bytes` of payload after it.
template <class R, class... A>
R* new_rep(std::size_t trailing_bytes, A&&... args) {
  std::uint8_t cls;
  void* mem = rep_alloc(sizeof(R) + trailing_bytes, cls);
  R* r = new (mem) R(std::forward<A>(args)...);
  r->cls = cls;
  return r;
}

} // namespace

// ---- lifetime ---------------------------------------------------------------

void term::retain() const noexcept {
  // Relaxed: a new reference is made from an existing one, which orders it.
  v_.p->rc.fetch_add(1, std::memory_order_relaxed);
}

void term::release() noexcept {
  // Trailing arrays start right after their headers.
  static_assert(sizeof(seq_rep) % alignof(term) == 0);
  static_assert(sizeof(map_rep) % alignof(std::pair<term, term>) == 0);
  rep* r = v_.p;
  // Acquire-release: the last owner must see every other owner's writes (none
  // to the payload, but the count's own history) before it frees. A count of 1
  // is ours alone (making another reference needs one), so the sole owner, the
  // usual case, frees without the atomic read-modify-write; its acquire load
  // pairs with the release of every earlier owner's decrement.
  if (r->rc.load(std::memory_order_acquire) != 1 && r->rc.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  const std::uint8_t cls = r->cls;
  switch (r->k) {
  case kind::tuple:
  case kind::list: {
    auto* s = static_cast<seq_rep*>(r);
    if (!s->flat) {
      term* e = s->elems();
      for (std::uint32_t i = 0; i < s->n; ++i) e[i].~term();
    }
    s->~seq_rep();
    break;
  }
  case kind::map: {
    auto* m = static_cast<map_rep*>(r);
    auto* e = m->entries();
    for (std::uint32_t i = 0; i < m->n; ++i) e[i].~pair();
    m->~map_rep();
    break;
  }
  case kind::reference: static_cast<ref_rep*>(r)->~ref_rep(); break;
  default: static_cast<bytes_rep*>(r)->~bytes_rep(); break;
  }
  rep_free(r, cls);
}

// ---- construction -----------------------------------------------------------

term::term(unsigned long long v) : k_(kind::integer) {
  if (v <= static_cast<unsigned long long>(INT64_MAX)) {
    v_.i = static_cast<std::int64_t>(v);
    return;
  }
  std::uint8_t mag[8];
  for (int i = 0; i < 8; ++i) mag[i] = static_cast<std::uint8_t>(v >> (8 * i));
  *this = integer(false, mag);
}

term term::integer(bool negative, std::span<const std::uint8_t> mag) {
  std::size_t n = mag.size();
  while (n > 0 && mag[n - 1] == 0) --n; // canonical: no leading zero bytes
  if (n <= 8) {
    std::uint64_t u = 0;
    for (std::size_t i = 0; i < n; ++i) u |= std::uint64_t{mag[i]} << (8 * i);
    if (!negative && u <= static_cast<std::uint64_t>(INT64_MAX)) return term(static_cast<long long>(u));
    if (negative && u <= std::uint64_t{1} << 63) {
      term t;
      t.k_ = kind::integer;
      t.v_.i = static_cast<std::int64_t>(0 - u);
      return t;
    }
  }
  term t;
  auto* r = new_rep<bytes_rep>(n, kind::big_integer, static_cast<std::uint32_t>(n), negative ? 1 : 0);
  std::memcpy(r->data(), mag.data(), n);
  t.k_ = kind::big_integer;
  t.heap_ = 1;
  t.v_.p = r;
  return t;
}

term term::atom(std::string_view name) {
  term t;
  char* d = term_access::fill_bytes(t, kind::atom, name.size());
  if (!name.empty()) std::memcpy(d, name.data(), name.size());
  return t;
}

char* term_access::fill_heap_bytes(term& t, term::kind k, std::size_t n, std::uint8_t bits_in_last) {
  auto* r = new_rep<term::bytes_rep>(n, k, static_cast<std::uint32_t>(n), bits_in_last);
  t.heap_ = 1;
  t.v_.p = r;
  return r->data();
}

term term::binary(std::string_view bytes) {
  term t;
  char* d = term_access::fill_bytes(t, kind::binary, bytes.size());
  if (!bytes.empty()) std::memcpy(d, bytes.data(), bytes.size());
  return t;
}

term term::binary(std::span<const std::byte> bytes) {
  return binary(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

term term::bitstring(std::string_view bytes, std::size_t bits) {
  bits = std::min(bits, bytes.size() * 8);
  const std::size_t nbytes = (bits + 7) / 8;
  const auto last = static_cast<std::uint8_t>(bits % 8);
  if (last == 0) return binary(bytes.substr(0, nbytes));
  term t;
  char* d = term_access::fill_bytes(t, kind::bitstring, nbytes, last);
  std::memcpy(d, bytes.data(), nbytes);
  // The unused low bits of the last byte are zero, so equal bitstrings are equal bytes.
  d[nbytes - 1] = static_cast<char>(static_cast<unsigned char>(d[nbytes - 1]) & (0xff00u >> last));
  return t;
}

term* term_access::fill_tuple(term& t, std::size_t n) {
  auto* r = new_rep<term::seq_rep>(n * sizeof(term), term::kind::tuple, 0);
  t.k_ = term::kind::tuple;
  t.heap_ = 1;
  t.v_.p = r;
  return r->elems();
}

term* term_access::fill_list(term& t, std::size_t n, term** tail) {
  term* e = fill_tuple(t, n);
  t.k_ = term::kind::list;
  t.v_.p->k = term::kind::list;
  *tail = &static_cast<term::seq_rep*>(t.v_.p)->tail;
  return e;
}

void term_access::normalize_list(term& list) {
  auto* s = static_cast<term::seq_rep*>(list.v_.p);
  if (s->tail.k_ != term::kind::list) return;
  // [a, b | [c | T]] is [a, b, c | T]: keep one representation of each list.
  std::vector<term> all(s->elems(), s->elems() + s->n);
  const auto more = s->tail.elements();
  all.insert(all.end(), more.begin(), more.end());
  term t = s->tail.tail();
  list = term::list(std::move(all), std::move(t));
}

std::pair<term, term>* term_access::fill_map(term& t, std::size_t n) {
  auto* r = new_rep<term::map_rep>(n * sizeof(std::pair<term, term>), 0);
  t.k_ = term::kind::map;
  t.heap_ = 1;
  t.v_.p = r;
  return r->entries();
}

namespace {

// a < b, with atoms (the usual map keys) compared without a call.
bool key_less(const term& a, const term& b) noexcept {
  if (a.type() == term::kind::atom && b.type() == term::kind::atom) {
    const std::string_view x(term_access::bytes_data(a), term_access::bytes_size(a));
    const std::string_view y(term_access::bytes_data(b), term_access::bytes_size(b));
    return x < y;
  }
  return (a <=> b) < 0;
}

} // namespace

bool term_access::finish_map(term& map) {
  auto* m = static_cast<term::map_rep*>(map.v_.p);
  auto* b = m->entries();
  auto* e = b + m->n;
  // Erlang writes a small map's keys in term order: one pass finds them
  // strictly increasing, which also says there is no duplicate.
  auto* p = b;
  while (p + 1 < e && key_less(p->first, (p + 1)->first)) ++p;
  if (p + 1 >= e) return true;
  auto less = [](const std::pair<term, term>& x, const std::pair<term, term>& y) { return key_less(x.first, y.first); };
  std::sort(b, e, less);
  for (p = b; p + 1 < e; ++p)
    if (p->first == (p + 1)->first) return false;
  return true;
}

term term::tuple(std::initializer_list<term> elements) {
  return tuple(std::vector<term>(elements));
}

term term::tuple(std::vector<term> elements) {
  if (elements.empty()) {
    // {} has no heap part: a tuple of size 0.
    term t;
    t.k_ = kind::tuple;
    return t;
  }
  term t;
  term* e = term_access::fill_tuple(t, elements.size());
  bool flat = true;
  for (std::size_t i = 0; i < elements.size(); ++i) {
    flat = flat && !elements[i].heap();
    new (e + i) term(std::move(elements[i]));
  }
  term_access::made(t, elements.size());
  if (flat) term_access::set_flat(t);
  return t;
}

term term::list(std::initializer_list<term> elements) {
  return list(std::vector<term>(elements));
}

term term::list(std::vector<term> elements, term tail) {
  if (elements.empty()) return tail;
  if (tail.k_ == kind::list) {
    const auto more = tail.elements();
    elements.insert(elements.end(), more.begin(), more.end());
    term t2 = tail.tail();
    tail = std::move(t2);
  }
  term t;
  term* tl = nullptr;
  term* e = term_access::fill_list(t, elements.size(), &tl);
  bool flat = true;
  for (std::size_t i = 0; i < elements.size(); ++i) {
    flat = flat && !elements[i].heap();
    new (e + i) term(std::move(elements[i]));
  }
  term_access::made(t, elements.size());
  if (flat) term_access::set_flat(t);
  *tl = std::move(tail);
  return t;
}

term term::map(std::vector<std::pair<term, term>> entries) {
  // Last one wins: sort positions by (key, position), then keep the last of each run of equal keys.
  std::vector<std::size_t> order(entries.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    const auto c = entries[x].first <=> entries[y].first;
    return c != 0 ? c < 0 : x < y;
  });
  std::vector<std::pair<term, term>> kept;
  kept.reserve(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i + 1 < order.size() && entries[order[i]].first == entries[order[i + 1]].first) continue;
    kept.push_back(std::move(entries[order[i]]));
  }
  entries = std::move(kept);
  if (entries.empty()) {
    term t;
    t.k_ = kind::map;
    return t;
  }
  term t;
  auto* e = term_access::fill_map(t, entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) new (e + i) std::pair<term, term>(std::move(entries[i]));
  term_access::made(t, entries.size());
  return t;
}

term term::reference(const term_ref& r) {
  term_ref c = r;
  if (c.len > 5) c.len = 5;
  for (int i = c.len; i < 5; ++i) c.id[i] = 0;
  auto* rr = new_rep<ref_rep>(0, c);
  term t;
  t.k_ = kind::reference;
  t.heap_ = 1;
  t.v_.p = rr;
  return t;
}

term term::from_ref(otter::ref local, std::uint16_t local_node_index) {
  term_ref r;
  r.node = local_node_index;
  r.len = 3;
  r.id[0] = static_cast<std::uint32_t>(local.bits());
  r.id[1] = static_cast<std::uint32_t>(local.bits() >> 32);
  r.id[2] = 0;
  return reference(r);
}

term term::port(std::uint16_t node, std::uint64_t id, bool v4) {
  term t;
  t.k_ = kind::port;
  t.v_.u = id;
  t.a32_ = node;
  t.a8_ = v4 ? 1 : 0;
  return t;
}

term term::fun(std::string_view encoding, std::uint16_t node) {
  term t;
  char* d = term_access::fill_bytes(t, kind::fun, encoding.size());
  if (!encoding.empty()) std::memcpy(d, encoding.data(), encoding.size());
  t.a32_ = node;
  return t;
}

// ---- access -----------------------------------------------------------------

std::string_view term::atom_name() const {
  if (heap_) {
    auto* r = static_cast<bytes_rep*>(v_.p);
    return {r->data(), r->n};
  }
  return {v_.inl, a8_};
}

std::optional<std::int64_t> term::to_int64() const noexcept {
  if (k_ == kind::integer) return v_.i;
  return std::nullopt;
}

std::optional<std::uint64_t> term::to_uint64() const noexcept {
  if (k_ == kind::integer) {
    if (v_.i < 0) return std::nullopt;
    return static_cast<std::uint64_t>(v_.i);
  }
  if (k_ == kind::big_integer) {
    auto* r = static_cast<bytes_rep*>(v_.p);
    if (r->extra || r->n > 8) return std::nullopt;
    std::uint64_t u = 0;
    for (std::uint32_t i = 0; i < r->n; ++i) u |= std::uint64_t{static_cast<unsigned char>(r->data()[i])} << (8 * i);
    return u;
  }
  return std::nullopt;
}

bool term::big_negative() const { return static_cast<bytes_rep*>(v_.p)->extra != 0; }

std::span<const std::uint8_t> term::big_magnitude() const {
  auto* r = static_cast<bytes_rep*>(v_.p);
  return {reinterpret_cast<const std::uint8_t*>(r->data()), r->n};
}

double term::as_double() const { return v_.d; }

bool term::is_proper_list() const noexcept {
  if (k_ == kind::nil) return true;
  return k_ == kind::list && static_cast<seq_rep*>(v_.p)->tail.k_ == kind::nil;
}

std::size_t term::size() const noexcept {
  switch (k_) {
  case kind::tuple:
  case kind::list: return heap_ ? static_cast<seq_rep*>(v_.p)->n : 0;
  case kind::map: return heap_ ? static_cast<map_rep*>(v_.p)->n : 0;
  case kind::atom:
  case kind::binary:
  case kind::bitstring:
  case kind::fun: return heap_ ? static_cast<bytes_rep*>(v_.p)->n : a8_;
  default: return 0;
  }
}

const term& term::operator[](std::size_t i) const { return static_cast<seq_rep*>(v_.p)->elems()[i]; }

std::span<const term> term::elements() const noexcept {
  if ((k_ != kind::tuple && k_ != kind::list) || !heap_) return {};
  auto* s = static_cast<seq_rep*>(v_.p);
  return {s->elems(), s->n};
}

namespace {
const term nil_term;
}

const term& term::tail() const noexcept {
  if (k_ != kind::list) return nil_term;
  return static_cast<seq_rep*>(v_.p)->tail;
}

std::string_view term::binary_bytes() const {
  if (heap_) {
    auto* r = static_cast<bytes_rep*>(v_.p);
    return {r->data(), r->n};
  }
  return {v_.inl, a8_};
}

std::size_t term::bit_size() const noexcept {
  if (k_ != kind::binary && k_ != kind::bitstring) return 0;
  const std::size_t n = size();
  const std::uint8_t last = heap_ ? static_cast<bytes_rep*>(v_.p)->extra : pad_;
  return last == 0 ? n * 8 : (n - 1) * 8 + last;
}

otter::pid term::as_pid() const { return otter::pid::from_bits(v_.u); }

const term_ref& term::as_ref() const { return static_cast<ref_rep*>(v_.p)->r; }

std::uint16_t term::port_node() const { return static_cast<std::uint16_t>(a32_); }
std::uint64_t term::port_id() const { return v_.u; }
bool term::port_is_v4() const { return a8_ != 0; }

std::string_view term::fun_encoding() const { return binary_bytes(); }
std::uint16_t term::fun_node() const { return static_cast<std::uint16_t>(a32_); }

std::span<const std::pair<term, term>> term::map_entries() const {
  if (k_ != kind::map || !heap_) return {};
  auto* m = static_cast<map_rep*>(v_.p);
  return {m->entries(), m->n};
}

const term* term::find(const term& key) const {
  const auto e = map_entries();
  auto it = std::lower_bound(e.begin(), e.end(), key,
                             [](const std::pair<term, term>& p, const term& k) { return (p.first <=> k) < 0; });
  if (it != e.end() && it->first == key) return &it->second;
  return nullptr;
}

// ---- order and equality -----------------------------------------------------

namespace {

int category(term::kind k) {
  switch (k) {
  case term::kind::integer:
  case term::kind::big_integer:
  case term::kind::floating: return 0;
  case term::kind::atom: return 1;
  case term::kind::reference: return 2;
  case term::kind::fun: return 3;
  case term::kind::port: return 4;
  case term::kind::pid: return 5;
  case term::kind::tuple: return 6;
  case term::kind::map: return 7;
  case term::kind::nil: return 8;
  case term::kind::list: return 9;
  case term::kind::binary:
  case term::kind::bitstring: return 10;
  }
  return 11;
}

std::strong_ordering cmp_i(auto a, auto b) { return a <=> b; }

double big_to_double(const term& t) {
  const auto m = t.big_magnitude();
  double d = 0;
  for (std::size_t i = m.size(); i-- > 0;) d = d * 256.0 + m[i];
  return t.big_negative() ? -d : d;
}

// An integer against a float: numerically, then the integer first.
std::strong_ordering cmp_int_float(const term& i, double d) {
  if (i.type() == term::kind::big_integer) {
    const double b = big_to_double(i);
    if (b < d) return std::strong_ordering::less;
    if (b > d) return std::strong_ordering::greater;
    return std::strong_ordering::less;
  }
  const std::int64_t v = *i.to_int64();
  if (d < -9.2233720368547758e18) return std::strong_ordering::greater;
  if (d >= 9.2233720368547758e18) return std::strong_ordering::less;
  const double t = std::trunc(d);
  const auto ti = static_cast<std::int64_t>(t);
  if (v != ti) return v <=> ti;
  if (d - t > 0) return std::strong_ordering::less;
  if (d - t < 0) return std::strong_ordering::greater;
  return std::strong_ordering::less;
}

std::strong_ordering cmp_numbers(const term& a, const term& b) {
  using K = term::kind;
  const K ka = a.type(), kb = b.type();
  if (ka == K::floating && kb == K::floating) {
    const double x = a.as_double(), y = b.as_double();
    if (x < y) return std::strong_ordering::less;
    if (x > y) return std::strong_ordering::greater;
    // -0.0 before 0.0: exact equality tells them apart, as their encodings do.
    return cmp_i(std::signbit(y), std::signbit(x));
  }
  if (ka == K::floating) return 0 <=> cmp_int_float(b, a.as_double());
  if (kb == K::floating) return cmp_int_float(a, b.as_double());
  if (ka == K::integer && kb == K::integer) return *a.to_int64() <=> *b.to_int64();
  // At least one big integer; a big one lies beyond every std::int64_t.
  const bool na = ka == K::integer ? *a.to_int64() < 0 : a.big_negative();
  const bool nb = kb == K::integer ? *b.to_int64() < 0 : b.big_negative();
  if (na != nb) return na ? std::strong_ordering::less : std::strong_ordering::greater;
  if (ka == K::integer) return na ? std::strong_ordering::greater : std::strong_ordering::less;
  if (kb == K::integer) return na ? std::strong_ordering::less : std::strong_ordering::greater;
  const auto ma = a.big_magnitude(), mb = b.big_magnitude();
  std::strong_ordering mag = ma.size() <=> mb.size();
  if (mag == 0) {
    for (std::size_t i = ma.size(); i-- > 0;)
      if (ma[i] != mb[i]) {
        mag = ma[i] <=> mb[i];
        break;
      }
  }
  return na ? 0 <=> mag : mag;
}

std::strong_ordering cmp_bytes(std::string_view a, std::string_view b) {
  const int c = a.compare(b);
  return c <=> 0;
}

} // namespace

std::strong_ordering operator<=>(const term& a, const term& b) noexcept {
  using K = term::kind;
  const int ca = category(a.k_), cb = category(b.k_);
  if (ca != cb) return ca <=> cb;
  switch (a.k_) {
  case K::integer:
  case K::big_integer:
  case K::floating: return cmp_numbers(a, b);
  case K::atom: return cmp_bytes(a.atom_name(), b.atom_name());
  case K::reference: {
    const term_ref &x = a.as_ref(), &y = b.as_ref();
    if (x.node != y.node) return x.node <=> y.node;
    if (x.len != y.len) return x.len <=> y.len;
    for (int i = 4; i >= 0; --i)
      if (x.id[i] != y.id[i]) return x.id[i] <=> y.id[i];
    return std::strong_ordering::equal;
  }
  case K::fun: {
    const auto c = cmp_bytes(a.fun_encoding(), b.fun_encoding());
    if (c != 0) return c;
    return a.a32_ <=> b.a32_;
  }
  case K::port:
    if (a.a32_ != b.a32_) return a.a32_ <=> b.a32_;
    if (a.v_.u != b.v_.u) return a.v_.u <=> b.v_.u;
    return a.a8_ <=> b.a8_;
  case K::pid: return a.v_.u <=> b.v_.u;
  case K::tuple: {
    const auto x = a.elements(), y = b.elements();
    if (x.size() != y.size()) return x.size() <=> y.size();
    for (std::size_t i = 0; i < x.size(); ++i) {
      const auto c = x[i] <=> y[i];
      if (c != 0) return c;
    }
    return std::strong_ordering::equal;
  }
  case K::map: {
    const auto x = a.map_entries(), y = b.map_entries();
    if (x.size() != y.size()) return x.size() <=> y.size();
    for (std::size_t i = 0; i < x.size(); ++i) {
      const auto c = x[i].first <=> y[i].first;
      if (c != 0) return c;
    }
    for (std::size_t i = 0; i < x.size(); ++i) {
      const auto c = x[i].second <=> y[i].second;
      if (c != 0) return c;
    }
    return std::strong_ordering::equal;
  }
  case K::nil: return std::strong_ordering::equal;
  case K::list: {
    const auto x = a.elements(), y = b.elements();
    const std::size_t n = std::min(x.size(), y.size());
    for (std::size_t i = 0; i < n; ++i) {
      const auto c = x[i] <=> y[i];
      if (c != 0) return c;
    }
    if (x.size() == y.size()) return a.tail() <=> b.tail();
    // The shorter one goes on with its tail (never a list), the other with a non-empty list.
    if (x.size() < y.size()) return category(a.tail().k_) <=> 9;
    return 9 <=> category(b.tail().k_);
  }
  case K::binary:
  case K::bitstring: {
    const auto c = cmp_bytes(a.binary_bytes(), b.binary_bytes());
    if (c != 0) return c;
    return a.bit_size() <=> b.bit_size();
  }
  }
  return std::strong_ordering::equal;
}

bool operator==(const term& a, const term& b) noexcept {
  if (a.k_ != b.k_) return false;
  using K = term::kind;
  switch (a.k_) {
  case K::integer:
  case K::pid: return a.v_.u == b.v_.u;
  case K::atom: return a.atom_name() == b.atom_name();
  case K::nil: return true;
  default: return (a <=> b) == 0;
  }
}

} // namespace otter
