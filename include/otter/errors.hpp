#pragma once
// The exceptions otter throws across its API.

#include <otter/detail/config.hpp>

#include <stdexcept>
#include <string>
#include <system_error>

namespace otter {

/// A bad argument to a runtime function, in Erlang's terms: registering a taken
/// name, sending to an unregistered name, and so on. Inside a process, letting
/// it escape crashes the process, as in Erlang.
class badarg : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

/// The kernel refused what the runtime needs (an io_uring, a thread). The
/// message names the cause and what to do about it; `code()` holds the errno.
/// `what()` is the message, with the errno's text appended unless the message
/// already says it: the text appears exactly once.
class runtime_unavailable : public std::system_error {
public:
  runtime_unavailable(int err, const std::string& what)
      : std::system_error(err, std::generic_category()), what_(compose(err, what)) {}

  const char* what() const noexcept override { return what_.what(); }

private:
  static std::string compose(int err, const std::string& what) {
    const std::string text = std::generic_category().message(err);
    if (what.empty()) return text;
    if (what.find(text) != std::string::npos) return what;
    return what + ": " + text;
  }
  // std::system_error's own what() is "message: errno text", which repeated a
  // text the message already had. A runtime_error holds the string so that
  // copying the exception cannot throw.
  std::runtime_error what_;
};

} // namespace otter
