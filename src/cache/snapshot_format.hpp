#pragma once
// The format of the rows kept at a clean stop (snapshot_file.hpp): each distinct text once,
// then every row as a fixed record of indexes into them, behind a header that names the
// database file they were read from and checksums the rest. Pure bytes in and out: the file
// handling is snapshot_file's.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/snapshot.hpp"
#include "db/types.hpp"

namespace projcache::cache {

// What a start loads: every project row, and every artifact row by project id.
struct stored_rows {
  std::vector<db::project_row> projects;
  std::unordered_map<std::string, std::vector<artifact_ptr>> artifacts;
};

// The database file the rows were read from: a later load takes them only for this file.
constexpr std::size_t sqlite_header_bytes = 100;
struct db_identity {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::string header;  // SQLite's first 100 bytes
};

std::string encode_snapshot(const db_identity& id, const stored_rows& rows);
// The header (with the payload's checksum) and the payload: what encode_snapshot ends with, and
// how the fuzz harness puts its bytes past the checksum, into the decoder's structure checks.
std::string snapshot_framed(const db_identity& id, std::uint32_t texts, std::uint32_t projects, std::uint32_t artifacts,
                            std::string_view payload);
// The rows, when the bytes are whole and name `expected`; otherwise nothing, and `why` says
// what was out of place (never half the rows).
std::optional<stored_rows> decode_snapshot(std::string_view bytes, const db_identity& expected, std::string& why);

}  // namespace projcache::cache
