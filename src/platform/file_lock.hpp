#pragma once
// The single-instance lock: an exclusive, non-blocking lock on a whole file, held by an open
// descriptor and released when it closes (also when the process dies, kill -9 included).
// flock(2): Linux, macOS and the BSDs. It is not SQLite's POSIX record lock, so the two never
// meet. (Windows would use LockFileEx on a handle: docs/platforms.md.)
#include <string>
#include <string_view>

namespace projcache::platform {

struct file_lock {
  enum class outcome { held, busy, failed };
  outcome result = outcome::failed;
  int fd = -1;      // while held
  int error = 0;    // errno, when failed
  bool failed_to_open = false;  // failed opening, not locking
};

// Opens `path` (created 0644 if absent) and tries to lock it.
file_lock lock_file(const std::string& path);
// Closes the descriptor, which releases the lock.
void release(file_lock& l);
// Replaces what the locked file holds with `text` (best effort: a note for whoever finds it busy).
void rewrite(const file_lock& l, std::string_view text);

}  // namespace projcache::platform
