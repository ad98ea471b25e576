#pragma once
// A stat's time fields in nanoseconds. Linux and the BSDs name them st_mtim/st_ctim (POSIX
// 2008); Apple keeps st_mtimespec/st_ctimespec.
#include <sys/stat.h>

#include <cstdint>

namespace projcache::platform {

// A file modified this recently may be rewritten within the same clock tick and keep its size
// and mtime, so whoever compares stat fields treats it as changed once more (git's racy rule):
// the hasher's fingerprints, the parse caches and the poll watcher.
inline constexpr std::int64_t racy_window_ns = 50'000'000;

#if defined(__APPLE__)
inline std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtimespec.tv_sec) * 1'000'000'000 + st.st_mtimespec.tv_nsec;
}
inline std::int64_t ctime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_ctimespec.tv_sec) * 1'000'000'000 + st.st_ctimespec.tv_nsec;
}
#else
inline std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}
inline std::int64_t ctime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
}
#endif

}  // namespace projcache::platform
