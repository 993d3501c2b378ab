#include "failure.hpp"

#include <cerrno>
#include <cstring>

namespace otter::detail::uring {

namespace {

// "EPERM (Operation not permitted)": the name to search for, the text to read.
std::string errno_said(int err) { return errno_name(err) + " (" + std::strerror(err) + ")"; }

// The policies that refuse io_uring calls, common to every call's message.
constexpr std::string_view blocked_by_policy =
    "io_uring is blocked for this process: usually by a seccomp policy (Docker's, Podman's and many "
    "sandboxes' default profiles refuse some or all of the io_uring calls) or by the sysctl "
    "kernel.io_uring_disabled (1 = allowed only for the io_uring_group, 2 = off). Allow it: run the "
    "container with --security-opt seccomp=unconfined (or a profile that permits io_uring_setup, "
    "io_uring_enter and io_uring_register), or set kernel.io_uring_disabled=0.";

} // namespace

std::string errno_name(int err) {
  switch (err) {
  case EPERM: return "EPERM";
  case EACCES: return "EACCES";
  case ENOSYS: return "ENOSYS";
  case EINVAL: return "EINVAL";
  case ENOMEM: return "ENOMEM";
  case EFAULT: return "EFAULT";
  case EBADF: return "EBADF";
  case EBUSY: return "EBUSY";
  case EAGAIN: return "EAGAIN";
  case EINTR: return "EINTR";
  case EEXIST: return "EEXIST";
  case ENXIO: return "ENXIO";
  case EOPNOTSUPP: return "EOPNOTSUPP";
  case EMFILE: return "EMFILE";
  case ENFILE: return "ENFILE";
  default: return "errno " + std::to_string(err);
  }
}

std::string setup_failure_message(int err) {
  std::string m = "otter: cannot set up io_uring: io_uring_setup failed with " + errno_said(err) + ". ";
  switch (err) {
  case EPERM:
  case EACCES:
    return m.append(blocked_by_policy);
  case ENOSYS:
    return m + "This kernel has no io_uring: it is older than Linux 5.1, built without CONFIG_IO_URING, "
               "or a sandbox (gVisor, some seccomp filters) hides it. otter needs Linux 5.19 or newer "
               "with io_uring enabled.";
  case ENOMEM:
    return m + "The ring's memory could not be allocated or locked: kernels before 5.12 charge it to "
               "RLIMIT_MEMLOCK. Raise the limit (ulimit -l, LimitMEMLOCK= in systemd, --ulimit "
               "memlock=-1 for Docker), lower node_options::ring_entries, or use a newer kernel.";
  case EMFILE:
  case ENFILE:
    return m + "The process is out of file descriptors; raise ulimit -n.";
  default:
    return m + "The kernel refused to make the ring.";
  }
}

std::string enter_failure_message(int err, std::string_view doing) {
  std::string m = "otter: io_uring stopped working: io_uring_enter failed with " + errno_said(err) + " while ";
  m.append(doing).append(". The ring was set up, but the kernel refuses to run it, so this node can do "
                         "no I/O and stops. ");
  switch (err) {
  case EPERM:
  case EACCES:
  case ENOSYS:
    return m + "A seccomp policy that allows io_uring_setup but not io_uring_enter does this. " +
           std::string(blocked_by_policy);
  case ENOMEM:
    return m + "The kernel is out of memory for io_uring's work.";
  default:
    return m + "This is not a refusal otter can work around.";
  }
}

std::string enter_busy_message(int err, unsigned tries) {
  return "otter: io_uring stopped working: io_uring_enter answered " + errno_said(err) + " " +
         std::to_string(tries) +
         " times in a row, although every completion was reaped between the tries. The kernel takes no "
         "more requests from this ring (its completions overflow and do not drain, or it is out of "
         "memory for them), so this node stops.";
}

std::string register_failure_message(int err, std::string_view what) {
  std::string m = "otter: cannot register ";
  m.append(what).append(" with io_uring: io_uring_register failed with ").append(errno_said(err)).append(". ");
  switch (err) {
  case EPERM:
  case EACCES:
    return m + "A seccomp policy that allows io_uring_setup and io_uring_enter but not io_uring_register "
               "does this. " +
           std::string(blocked_by_policy);
  case ENOSYS:
    return m + "Something (a seccomp filter, a sandbox such as gVisor) hides io_uring_register.";
  case EINVAL:
    return m + "The kernel does not know rings of provided buffers: otter needs Linux 5.19 or newer.";
  case ENOMEM:
    return m + "The buffers could not be allocated or locked in memory: kernels before 5.12 charge them to "
               "RLIMIT_MEMLOCK. Raise the limit (ulimit -l, LimitMEMLOCK= in systemd, --ulimit memlock=-1 "
               "for Docker) or lower node_options::receive_buffers.";
  default:
    return m + "The kernel refused the registration.";
  }
}

} // namespace otter::detail::uring
