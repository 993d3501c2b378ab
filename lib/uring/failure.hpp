#pragma once
// What otter says when the kernel refuses one of the three io_uring system
// calls: which call, the errno by name and text, the likely reason and the
// remedy. Each message says the errno's text once (runtime_unavailable adds
// it only when missing).

#include <string>
#include <string_view>

namespace otter::detail::uring {

/// "EPERM", "ENOSYS"... or "errno 123" for the rare ones.
std::string errno_name(int err);

/// io_uring_setup refused (the ring could not be made).
std::string setup_failure_message(int err);

/// io_uring_enter refused while `doing` ("submitting", "waiting"...): the ring
/// exists but the kernel will not run it.
std::string enter_failure_message(int err, std::string_view doing);

/// io_uring_enter kept answering EINTR, EBUSY or EAGAIN although every
/// completion was reaped between the tries.
std::string enter_busy_message(int err, unsigned tries);

/// io_uring_register refused registering `what` ("the receive buffers").
std::string register_failure_message(int err, std::string_view what);

} // namespace otter::detail::uring
