#pragma once
// otter::result<T> — a value, or the exit reason that explains its absence.

#include <otter/detail/config.hpp>

#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

#include <otter/exit_reason.hpp>

namespace otter {

/// Thrown by `result::value()` on an error, and by gen_server calls that fail.
class call_error : public std::runtime_error {
public:
  explicit call_error(exit_reason reason)
      : std::runtime_error("otter: " + reason.to_string()), reason_(std::move(reason)) {}
  const exit_reason& reason() const noexcept { return reason_; }

private:
  exit_reason reason_;
};

/// The value-returning form of operations that can fail in expected ways
/// (starting a server, a call that times out): either a T or an exit_reason.
template <class T>
class result {
public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  result(exit_reason error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; throws otter::call_error with the reason if there is none.
  T& value() & {
    if (!has_value()) throw call_error(std::get<1>(v_));
    return std::get<0>(v_);
  }
  T&& value() && {
    if (!has_value()) throw call_error(std::get<1>(v_));
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  T& operator*() & { return value(); }

  /// The reason; `normal` if there is a value.
  exit_reason error() const { return has_value() ? exit_reason::normal() : std::get<1>(v_); }

private:
  std::variant<T, exit_reason> v_;
};

/// The void case: success, or an exit_reason.
template <>
class result<void> {
public:
  result() = default;
  result(exit_reason error) : error_(std::move(error)), failed_(true) {}
  bool has_value() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const {
    if (failed_) throw call_error(error_);
  }
  exit_reason error() const { return failed_ ? error_ : exit_reason::normal(); }

private:
  exit_reason error_;
  bool failed_ = false;
};

} // namespace otter
