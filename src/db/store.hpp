#pragma once
// Opening the store file: parents created, corruption detected and moved aside, schema migrated.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace projcache::db {

class connection;

struct open_report {
  std::optional<std::string> moved_aside;  // where a corrupt file went, when one was found
  std::string reason;                      // why it was judged corrupt
  int migrations_applied = 0;
};

class db_error;

enum class integrity_check { now, by_caller };

// Makes `path` a usable, migrated database. A file that is not a database, fails PRAGMA
// quick_check (unless the caller runs integrity_problem itself, beside its first reads) or
// cannot be migrated for corruption is renamed to <path>.corrupt-<UTC timestamp> (with its
// -wal/-shm) and a fresh one is created. Throws db_error / std::runtime_error with a clear
// message when the directory cannot be created or written (read-only, full disk).
open_report prepare_store(const std::filesystem::path& path, integrity_check check = integrity_check::now);

// Why the file is not a SQLite database, or nothing (an empty or absent file is a fresh one).
std::optional<std::string> header_problem(const std::filesystem::path& path);
// What PRAGMA quick_check found wrong, or nothing when the file is intact. Opens a connection
// of its own, so it can run on another thread beside the store's reads.
std::optional<std::string> integrity_problem(const std::filesystem::path& path);
// The same on an open connection (which then goes on to read what it needs).
std::optional<std::string> integrity_problem(connection& c);
// SQLITE_CORRUPT or SQLITE_NOTADB.
bool is_corruption(const db_error& e);
// Renames a corrupt file (and its -wal/-shm) to <path>.corrupt-<UTC timestamp>, saying so in
// the log; the new path.
std::string move_aside(const std::filesystem::path& path, const std::string& why);

// What set_mmap_size maps for a whole-file read (bigger files read the rest page by page).
inline constexpr std::int64_t whole_file_map_bytes = std::int64_t{1} << 30;

// The integrity report of PRAGMA quick_check (or integrity_check when full): "ok" or the problems.
std::string check_store(const std::filesystem::path& path, bool full);
std::string check_store(connection& c, bool full);

}  // namespace projcache::db
