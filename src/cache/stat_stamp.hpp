#pragma once
// A file's identity for "changed since we last read it?": its size, mtime in nanoseconds and
// inode, and whether that mtime is too recent to trust. A file rewritten within the clock's
// coarse tick keeps its size and mtime, so anything written in the last 50 ms is read again
// next time (git's racy-timestamp rule). The hasher's fingerprints and the scanner's parse
// caches both decide this way.
#include <sys/stat.h>

#include <cstdint>
#include <string>

#include "common/time_format.hpp"
#include "platform/file_time.hpp"

namespace projcache::cache {

using platform::racy_window_ns;

using platform::mtime_ns;

// "size:mtime_ns:inode" (stored in fingerprints as a file's listing digest: keep the format).
inline std::string stat_stamp(const struct stat& st) {
  return std::to_string(st.st_size) + ':' + std::to_string(mtime_ns(st)) + ':' + std::to_string(st.st_ino);
}

// Modified within the racy window of now.
inline bool is_racy(std::int64_t mtime_ns) { return now_micros() * 1000 - mtime_ns < racy_window_ns; }

}  // namespace projcache::cache
