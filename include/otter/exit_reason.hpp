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
/// | `noconnection` | `noconnection`              | the process's node cannot be reached            |
/// | `timeout`      | `timeout`                   | a call or an operation timed out                |
/// | `custom`       | the value                   | any other reason, chosen by the program         |
/// | `error`        | `{error,Type,"what"}`       | an exception of type Type escaped the body      |
///
/// Every reason except `normal` is abnormal: it kills linked processes that do
/// not trap exits. Copying is cheap (the text, if any, is shared).
///
/// `noconnection` is Erlang's reason for a process on a node that cannot be
/// reached: links and monitors across a connection that goes down get it
/// (docs/distribution.md).
///
/// A reason from another node that none of these kinds holds exactly (an
/// Erlang `{badarg, Stack}`, `{shutdown, {a, 1}}`...) is a `custom` reason
/// printed as Erlang prints it and compared by that text; it keeps the term it
/// came as, so `otter::to_term` gives it back and it crosses to other nodes
/// unchanged (otter/dist/codec.hpp).
namespace detail {
struct exit_reason_access;
}

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
  /// The process's node cannot be reached (its connection went down).
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
  friend struct detail::exit_reason_access;
  struct text;
  explicit exit_reason(kind k) noexcept : kind_(k) {}
  exit_reason(kind k, std::shared_ptr<const text> t) noexcept : kind_(k), text_(std::move(t)) {}

  kind kind_ = kind::normal;
  std::shared_ptr<const text> text_;
};

inline std::string to_string(const exit_reason& r) { return r.to_string(); }
std::ostream& operator<<(std::ostream& os, const exit_reason& r);

} // namespace otter
