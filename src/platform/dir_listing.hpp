#pragma once
// One folder's names, the way the hasher and the poll watcher need them: without "." and "..",
// each with the type the directory entry gives (unknown where the file system gives none), in
// byte order of the names (SkillMeat's component-wise order, so a depth-first walk needs no
// further sort).
#include <string>
#include <vector>

namespace projcache::platform {

enum class entry_type : unsigned char { unknown, file, directory, symlink, other };

struct dir_entry {
  std::string name;
  entry_type type;
};

// Lists the open folder `dirfd` into `out` (cleared first). Returns 0, or the errno of the
// failure. Does not close `dirfd`; reads from its current offset (a fresh descriptor: all).
int list_directory(int dirfd, std::vector<dir_entry>& out);

namespace detail {
// The implementations behind list_directory, both declared so a unit test can compare them on
// one tree: readdir (POSIX, every platform) and getdents64 (Linux only, no opendir allocation).
int list_with_readdir(int dirfd, std::vector<dir_entry>& out);
int list_with_getdents(int dirfd, std::vector<dir_entry>& out);
}  // namespace detail

}  // namespace projcache::platform
