#pragma once
// Registered names: give a process a name that every core can look up.

#include <otter/detail/config.hpp>

#include <string>
#include <string_view>
#include <vector>

#include <otter/pid.hpp>
#include <otter/send.hpp>

namespace otter {

/// Registers `name` for the process `p`. The name is visible from every core of
/// the node and dies with the process. Throws otter::badarg if the name is empty
/// or taken, if `p` already has a name, or if `p` (on the caller's core) has
/// exited. For a process on another core, liveness is confirmed by that core:
/// if it had already exited, the name is removed when the confirmation arrives.
void register_name(std::string_view name, pid p);

/// Removes a registered name. Throws otter::badarg if it is not registered.
void unregister_name(std::string_view name);

/// The pid registered as `name`, or the null pid. (Declared in send.hpp.)
pid whereis(std::string_view name);

/// Every name registered now, in no particular order.
std::vector<std::string> registered();

} // namespace otter
