#pragma once
// otter::io_result<T> — the outcome of an I/O operation: a value or a
// std::error_code from the kernel.

#include <otter/detail/config.hpp>

#include <stdexcept>
#include <system_error>
#include <utility>
#include <variant>

namespace otter {

/// A value, or the error the kernel reported (`error().message()` says what
/// it means). Timeouts are `std::errc::timed_out`. `value()` throws
/// std::system_error on an error.
template <class T>
class io_result {
public:
  io_result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  io_result(std::error_code error) : v_(std::in_place_index<1>, error) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & {
    if (!has_value()) throw std::system_error(std::get<1>(v_));
    return std::get<0>(v_);
  }
  T&& value() && {
    if (!has_value()) throw std::system_error(std::get<1>(v_));
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  T& operator*() & { return value(); }
  std::error_code error() const noexcept { return has_value() ? std::error_code{} : std::get<1>(v_); }

private:
  std::variant<T, std::error_code> v_;
};

template <>
class io_result<void> {
public:
  io_result() = default;
  io_result(std::error_code error) : error_(error) {}
  bool has_value() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const {
    if (error_) throw std::system_error(error_);
  }
  std::error_code error() const noexcept { return error_; }

private:
  std::error_code error_;
};

/// The std::error_code for a negative errno result from the kernel.
inline std::error_code kernel_error(int negative_errno) noexcept {
  return {-negative_errno, std::system_category()};
}

} // namespace otter
