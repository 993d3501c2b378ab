#pragma once
// Collects what a node logs, for tests.

#include <functional>
#include <memory>
#include <variant>
#include <vector>

#include <otter/logger.hpp>

namespace otter_test {

/// Give `sink()` to `node_options::log.sink`. The sink runs on the node's
/// logger thread; read the records once the node is destroyed (its destructor
/// writes what is queued and joins that thread).
struct log_capture {
  std::shared_ptr<std::vector<otter::log_record>> records = std::make_shared<std::vector<otter::log_record>>();

  std::function<void(const otter::log_record&)> sink() const {
    return [all = records](const otter::log_record& r) { all->push_back(r); };
  }

  /// The records of type T, in the order they were logged.
  template <class T>
  std::vector<T> of() const {
    std::vector<T> out;
    for (const auto& r : *records)
      if (const T* t = std::get_if<T>(&r)) out.push_back(*t);
    return out;
  }
};

} // namespace otter_test
