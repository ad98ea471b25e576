#pragma once
// Opening the store file: parents created, corruption detected and moved aside, schema migrated.
#include <filesystem>
#include <optional>
#include <string>

namespace projcache::db {

struct open_report {
  std::optional<std::string> moved_aside;  // where a corrupt file went, when one was found
  std::string reason;                      // why it was judged corrupt
  int migrations_applied = 0;
};

// Makes `path` a usable, migrated database. A file that is not a database or fails
// PRAGMA quick_check is renamed to <path>.corrupt-<UTC timestamp> (with its -wal/-shm) and a
// fresh one is created. Throws db_error / std::runtime_error with a clear message when the
// directory cannot be created or written (read-only, full disk).
open_report prepare_store(const std::filesystem::path& path);

// The integrity report of PRAGMA quick_check (or integrity_check when full): "ok" or the problems.
std::string check_store(const std::filesystem::path& path, bool full);

}  // namespace projcache::db
