#pragma once
// Included first by every otter header, so that a translation unit compiled
// below C++20 stops with one clear message before it meets anything that needs
// C++20 (constinit, concepts, coroutines) and fails in hundreds of lines.
//
// otter is Linux-only (io_uring) and built with g++ and clang, which report the
// standard in __cplusplus; MSVC's habit of reporting 199711L does not apply.

#if __cplusplus < 202002L
#error "otter needs C++20 or newer: compile with -std=c++20 (or later)"
#endif
