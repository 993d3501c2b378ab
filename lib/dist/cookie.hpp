#pragma once
// The distribution cookie: read from (or created in) ~/.erlang.cookie with OTP's rules.

#include <string>

namespace otter::dist {

/// A cookie, or why there is none (`error` non-empty, `cookie` empty).
struct cookie_result {
  std::string cookie;
  std::string error;
};

/// Reads the cookie in `path`. The file must be a regular file that neither group
/// nor others may read or write; its contents, less trailing spaces, tabs, CRs and
/// newlines, must be 1..255 printable ASCII bytes. A missing file is created
/// (exclusively, mode 0400) with 20 random uppercase letters, as erl does.
/// Blocking file I/O: call it before the node starts or from a blocking task.
cookie_result read_cookie_file(const std::string& path);

/// read_cookie_file("$HOME/.erlang.cookie"); an error if HOME is unset.
cookie_result default_cookie();

} // namespace otter::dist
