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

void record_exception(pcb& p) noexcept {
  try {
    try {
      throw;
    } catch (const exit_exception& e) { // otter::exit(reason): an exit, not a crash
      ext_of(p).reason = e.reason;
      return;
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
    process_ext& ext = ext_of(p);
    ext.reason = exit_reason::error(std::move(type), std::move(what));
    ext.crashed = true;
  } catch (...) {
    // Out of memory while recording the reason: exit `killed` rather than `normal`.
    if (p.ext != nullptr) p.ext->reason = exit_reason::killed();
  }
}

} // namespace otter::detail
