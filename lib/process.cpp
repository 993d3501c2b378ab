#include <otter/process.hpp>

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <typeinfo>

#include <otter/link.hpp>

#include "process_ext.hpp"

namespace otter::detail {
namespace {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                             &std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(mangled);
}

} // namespace

exit_reason reason_of_current_exception() noexcept {
  try {
    try {
      throw;
    } catch (const exit_exception& e) { // otter::exit(reason): an exit, not a crash
      return e.reason;
    } catch (...) {
    }
    std::string type = "unknown exception";
    if (const std::type_info* t = abi::__cxa_current_exception_type()) type = demangle(t->name());
    std::string what;
    try {
      throw;
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    return exit_reason::error(std::move(type), std::move(what));
  } catch (...) {
    return exit_reason::killed(); // out of memory while describing it
  }
}

void record_exception(pcb& p) noexcept {
  bool crashed = true;
  try {
    throw;
  } catch (const exit_exception&) {
    crashed = false;
  } catch (...) {
  }
  exit_reason reason = reason_of_current_exception();
  try {
    process_ext& ext = ext_of(p);
    ext.reason = std::move(reason);
    ext.crashed = crashed;
  } catch (...) {
    // No memory for the extension: the process exits `normal`; nothing better to do.
  }
}

} // namespace otter::detail
