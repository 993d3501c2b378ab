#include "timer_wheel.hpp"

#include <algorithm>
#include <bit>

namespace otter::detail {
namespace {

// A list head on the stack, to which a slot's timers are moved before they are
// fired or cascaded: a timer's `fire` may cancel another timer of the same slot.
struct local_list {
  timer_node head;
  local_list() noexcept { head.prev = head.next = &head; }
  bool empty() const noexcept { return head.next == &head; }
};

void splice_all(timer_node& from, local_list& to) noexcept {
  if (from.next == &from) return;
  to.head.next = from.next;
  to.head.prev = from.prev;
  from.next->prev = &to.head;
  from.prev->next = &to.head;
  from.next = from.prev = &from;
}

constexpr std::uint64_t span(int level) noexcept { return std::uint64_t{1} << (6 * level); }

} // namespace

timer_wheel::timer_wheel() noexcept {
  for (auto& level : heads_)
    for (auto& h : level) h.prev = h.next = &h;
}

timer_wheel::slot_ref timer_wheel::where(std::uint64_t deadline) const noexcept {
  std::uint64_t d = std::max(deadline, now_);
  std::uint64_t delta = d - now_;
  if (delta >= span(levels)) { // beyond the wheel: park at the top, re-place later
    d = now_ + span(levels) - 1;
    delta = span(levels) - 1;
  }
  // The level whose span covers the distance: 6 bits of distance per level.
  const int level = delta < slots ? 0 : (std::bit_width(delta) - 1) / slot_bits;
  return {level, static_cast<int>((d >> (slot_bits * level)) & (slots - 1))};
}

void timer_wheel::place(timer_node* t) noexcept {
  slot_ref r = where(t->deadline);
  timer_node& h = heads_[r.level][r.slot];
  t->next = &h;
  t->prev = h.prev;
  h.prev->next = t;
  h.prev = t;
  occupied_[r.level] |= std::uint64_t{1} << r.slot;
}

void timer_wheel::insert(timer_node* t) noexcept {
  if (t->armed()) erase(t);
  // The current tick's slot has fired already: a due timer fires at the next tick.
  if (t->deadline <= now_) t->deadline = now_ + 1;
  place(t);
  ++count_;
}

void timer_wheel::erase(timer_node* t) noexcept {
  if (!t->armed()) return;
  timer_node* prev = t->prev;
  timer_node* next = t->next;
  prev->next = next;
  next->prev = prev;
  t->prev = t->next = nullptr;
  --count_;
  // If that emptied a slot of the wheel, clear its bit.
  if (prev == next) {
    const timer_node* first = &heads_[0][0];
    if (prev >= first && prev < first + levels * slots) {
      const auto index = static_cast<std::size_t>(prev - first);
      occupied_[index / slots] &= ~(std::uint64_t{1} << (index % slots));
    }
  }
}

void timer_wheel::cascade(int level) noexcept {
  const int slot = static_cast<int>((now_ >> (slot_bits * level)) & (slots - 1));
  local_list moving;
  splice_all(heads_[level][slot], moving);
  occupied_[level] &= ~(std::uint64_t{1} << slot);
  while (!moving.empty()) {
    timer_node* t = moving.head.next;
    moving.head.next = t->next;
    t->next->prev = &moving.head;
    place(t);
  }
}

void timer_wheel::fire_slot(int slot) noexcept {
  local_list due;
  splice_all(heads_[0][slot], due);
  occupied_[0] &= ~(std::uint64_t{1} << slot);
  while (!due.empty()) {
    timer_node* t = due.head.next;
    due.head.next = t->next;
    t->next->prev = &due.head;
    if (t->deadline > now_) { // parked beyond the wheel's range
      place(t);
      continue;
    }
    t->prev = t->next = nullptr;
    --count_;
    t->fire(t);
  }
}

void timer_wheel::advance(std::uint64_t tick) noexcept {
  while (now_ < tick) {
    // Jump straight to the next tick with work: a level-0 slot to fire or an
    // occupied higher-level slot to cascade. Empty time costs nothing.
    const std::optional<std::uint64_t> next = next_expiry();
    if (!next || *next > tick) {
      now_ = tick;
      return;
    }
    now_ = *next;
    if ((now_ & (slots - 1)) == 0) {
      int top = 1;
      while (top < levels - 1 && (now_ & (span(top + 1) - 1)) == 0) ++top;
      for (int level = top; level >= 1; --level) cascade(level);
    }
    fire_slot(static_cast<int>(now_ & (slots - 1)));
  }
}

std::optional<std::uint64_t> timer_wheel::next_expiry() const noexcept {
  if (count_ == 0) return std::nullopt;
  std::uint64_t best = UINT64_MAX;
  for (int level = 0; level < levels; ++level) {
    const std::uint64_t mask = occupied_[level];
    if (mask == 0) continue;
    const int shift = slot_bits * level;
    const std::uint64_t block = now_ >> shift;
    const unsigned cur = block & (slots - 1);
    const std::uint64_t later = cur == slots - 1 ? 0 : mask & (~std::uint64_t{0} << (cur + 1));
    const std::uint64_t base = block & ~std::uint64_t{slots - 1};
    const std::uint64_t b = later != 0 ? base + static_cast<unsigned>(std::countr_zero(later))
                                       : base + slots + static_cast<unsigned>(std::countr_zero(mask));
    best = std::min(best, b << shift);
  }
  return best;
}

} // namespace otter::detail
