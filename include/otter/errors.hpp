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
class runtime_unavailable : public std::system_error {
public:
  runtime_unavailable(int err, const std::string& what)
      : std::system_error(err, std::generic_category(), what) {}
};

} // namespace otter
