#pragma once
// Whether a '/'-separated path lies inside a folder, by its text (no file system access).
#include <string>

namespace projcache {

// Strictly below `dir`: "/a/b/c" is under "/a/b", "/a/bc" and "/a/b" are not.
inline bool path_under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}
inline bool path_at_or_under(const std::string& path, const std::string& dir) {
  return path == dir || path_under(path, dir);
}

}  // namespace projcache
