#include <otter/exit_reason.hpp>

#include "exit_reason_access.hpp"

#include <ostream>

namespace otter {

struct exit_reason::text {
  std::string first;  // shutdown detail, custom value, or error type
  std::string second; // error what()
  std::shared_ptr<const void> value = {}; // what it came as from another node (lib/exit_reason_access.hpp)
};

exit_reason detail::exit_reason_access::with_value(exit_reason::kind k, std::string printed,
                                                   std::shared_ptr<const void> value) {
  using text = exit_reason::text;
  return {k, std::make_shared<const text>(text{std::move(printed), {}, std::move(value)})};
}

const void* detail::exit_reason_access::value(const exit_reason& r) noexcept {
  return r.text_ ? r.text_->value.get() : nullptr;
}

exit_reason exit_reason::shutdown(std::string detail) {
  return {kind::shutdown, std::make_shared<const text>(text{std::move(detail), {}})};
}

exit_reason exit_reason::custom(std::string value) {
  return {kind::custom, std::make_shared<const text>(text{std::move(value), {}})};
}

exit_reason exit_reason::error(std::string type, std::string what) {
  return {kind::error, std::make_shared<const text>(text{std::move(type), std::move(what)})};
}

std::string_view exit_reason::detail() const noexcept {
  if (!text_) return {};
  return kind_ == kind::error ? std::string_view(text_->second) : std::string_view(text_->first);
}

std::string_view exit_reason::error_type() const noexcept {
  return kind_ == kind::error && text_ ? std::string_view(text_->first) : std::string_view{};
}

namespace {
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}
} // namespace

std::string exit_reason::to_string() const {
  switch (kind_) {
  case kind::normal:
    return "normal";
  case kind::kill:
    return "kill";
  case kind::killed:
    return "killed";
  case kind::shutdown:
    return text_ ? "{shutdown," + quoted(text_->first) + "}" : "shutdown";
  case kind::noproc:
    return "noproc";
  case kind::noconnection:
    return "noconnection";
  case kind::timeout:
    return "timeout";
  case kind::custom:
    return text_ ? text_->first : "custom";
  case kind::error:
    return "{error," + (text_ ? text_->first : std::string("?")) + "," +
           quoted(text_ ? text_->second : std::string()) + "}";
  }
  return "?";
}

bool operator==(const exit_reason& a, const exit_reason& b) noexcept {
  if (a.kind_ != b.kind_) return false;
  if (a.text_ == b.text_) return true;
  if (!a.text_ || !b.text_) return false;
  return a.text_->first == b.text_->first && a.text_->second == b.text_->second;
}

std::ostream& operator<<(std::ostream& os, const exit_reason& r) { return os << r.to_string(); }

} // namespace otter
