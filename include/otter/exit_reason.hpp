#pragma once
// otter::exit_reason — why a process ended, in Erlang's vocabulary.

#include <otter/detail/config.hpp>

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

namespace otter {

/// Why a process exited. Mirrors Erlang's exit reasons:
///
/// | kind           | printed as                  | meaning                                         |
/// |----------------|-----------------------------|-------------------------------------------------|
/// | `normal`       | `normal`                    | the body returned                               |
/// | `kill`         | `kill`                      | an untrappable kill signal (becomes `killed`)   |
/// | `killed`       | `killed`                    | the process was killed by `kill`                |
/// | `shutdown`     | `shutdown` / `{shutdown,D}` | orderly stop, optionally with a detail D        |
/// | `noproc`       | `noproc`                    | the target process did not exist                |
/// | `noconnection` | `noconnection`              | reserved for distribution: never produced yet   |
/// | `timeout`      | `timeout`                   | a call or an operation timed out                |
/// | `custom`       | the value                   | any other reason, chosen by the program         |
/// | `error`        | `{error,Type,"what"}`       | an exception of type Type escaped the body      |
///
/// Every reason except `normal` is abnormal: it kills linked processes that do
/// not trap exits. Copying is cheap (the text, if any, is shared).
///
/// `noconnection` is Erlang's reason for a process on a node that cannot be
/// reached. otter has no distribution between nodes yet, so nothing in otter
/// produces it: it is kept so that code matching on reasons need not change
/// when distribution comes. A program may still use it as a reason of its own.
class exit_reason {
public:
  enum class kind : unsigned char {
    normal,
    kill,
    killed,
    shutdown,
    noproc,
    noconnection,
    timeout,
    custom,
    error,
  };

  /// The default reason is `normal`.
  exit_reason() noexcept = default;

  static exit_reason normal() noexcept { return exit_reason{kind::normal}; }
  static exit_reason kill() noexcept { return exit_reason{kind::kill}; }
  static exit_reason killed() noexcept { return exit_reason{kind::killed}; }
  static exit_reason shutdown() noexcept { return exit_reason{kind::shutdown}; }
  /// `{shutdown, detail}`: an orderly stop that supervisors do not report as a crash.
  static exit_reason shutdown(std::string detail);
  static exit_reason noproc() noexcept { return exit_reason{kind::noproc}; }
  /// Reserved for distribution (a node that cannot be reached); otter itself never produces it yet.
  static exit_reason noconnection() noexcept { return exit_reason{kind::noconnection}; }
  static exit_reason timeout() noexcept { return exit_reason{kind::timeout}; }
  /// A reason chosen by the program, compared by its text.
  static exit_reason custom(std::string value);
  /// An escaped exception: its (demangled) type name and its `what()`.
  static exit_reason error(std::string type, std::string what);

  kind get_kind() const noexcept { return kind_; }
  bool is_normal() const noexcept { return kind_ == kind::normal; }
  /// The detail of `{shutdown, D}`, the value of a custom reason, or the `what()` of an error.
  std::string_view detail() const noexcept;
  /// The exception type of an `error` reason; empty otherwise.
  std::string_view error_type() const noexcept;

  /// Erlang-style text: `normal`, `{shutdown,"D"}`, `{error,std::runtime_error,"boom"}`...
  std::string to_string() const;

  friend bool operator==(const exit_reason& a, const exit_reason& b) noexcept;

private:
  struct text;
  explicit exit_reason(kind k) noexcept : kind_(k) {}
  exit_reason(kind k, std::shared_ptr<const text> t) noexcept : kind_(k), text_(std::move(t)) {}

  kind kind_ = kind::normal;
  std::shared_ptr<const text> text_;
};

inline std::string to_string(const exit_reason& r) { return r.to_string(); }
std::ostream& operator<<(std::ostream& os, const exit_reason& r);

} // namespace otter
