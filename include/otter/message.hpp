#pragma once
// otter::message — any message, for receives that take whatever comes.

#include <otter/detail/config.hpp>

#include <type_traits>
#include <utility>

#include <otter/detail/envelope.hpp>

namespace otter {

/// Owns one received message of any type. A receive clause taking
/// `otter::message` matches every message (Erlang's `_ ->`), so it is usually
/// the last clause. Inspect it with `is<T>()` / `get_if<T>()`.
///
/// ```
/// co_await otter::receive([](int n) { ... }, [](otter::message other) { ... });
/// ```
class message {
public:
  message() noexcept = default;
  explicit message(detail::envelope* e) noexcept : envelope_(e) {}
  message(message&& other) noexcept : envelope_(std::exchange(other.envelope_, nullptr)) {}
  message& operator=(message&& other) noexcept {
    if (this != &other) {
      reset();
      envelope_ = std::exchange(other.envelope_, nullptr);
    }
    return *this;
  }
  ~message() { reset(); }

  explicit operator bool() const noexcept { return envelope_ != nullptr; }

  /// True if the message is a T (compared exactly, after decay).
  template <class T>
  bool is() const noexcept {
    return envelope_ != nullptr && envelope_->tag == detail::tag_of<std::decay_t<T>>();
  }
  /// The T inside, or null if the message is something else.
  template <class T>
  T* get_if() noexcept {
    return is<T>() ? &detail::payload<T>(envelope_) : nullptr;
  }

  /// The envelope (runtime use).
  detail::envelope* get() const noexcept { return envelope_; }
  /// Gives up ownership of the envelope (runtime use).
  detail::envelope* release() noexcept { return std::exchange(envelope_, nullptr); }

private:
  void reset() noexcept {
    if (envelope_ != nullptr) detail::destroy(std::exchange(envelope_, nullptr));
  }
  detail::envelope* envelope_ = nullptr;
};

} // namespace otter
