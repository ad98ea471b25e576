#pragma once
// The rows of the database, kept beside it at a clean stop (`<db>.snapshot`), so the next start
// reads them in one pass over a flat file instead of through SQLite: every distinct text once,
// each row a fixed record of indexes into them. It is read once and removed at once, and used
// only when the database file is exactly the one it was written from (size, modification time
// and SQLite's 100-byte header) with nothing in its WAL; anything else (a crash, a file changed
// by another program, a newer format, a torn or damaged file) and the start reads the database
// as it always did. The database stays the only record: this file holds nothing it lacks.
#include <filesystem>
#include <optional>
#include <string>

#include "cache/snapshot_format.hpp"

namespace projcache::cache {

std::filesystem::path snapshot_file_of(const std::filesystem::path& db_path);

// The database file as it is now; nothing when it cannot be read.
std::optional<db_identity> identity_of(const std::filesystem::path& db_path);

// Writes `rows`, read from db_path's database, for its file as it is now: call once the
// database is closed and its WAL folded. False (and nothing left behind) when the WAL still
// holds frames or the file cannot be written (a full disk, ...); the next start then reads the
// database.
bool keep_snapshot_file(const std::filesystem::path& db_path, const stored_rows& rows);

// Reads and removes the file kept for db_path. The rows when it describes the database file
// as it is now; otherwise nothing, and `why` says what did not match.
std::optional<stored_rows> take_snapshot_file(const std::filesystem::path& db_path, std::string& why);

}  // namespace projcache::cache
