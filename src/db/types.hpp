#pragma once
// Plain rows of the store. Times are UTC microseconds (common/time_format.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/shared_text.hpp"
#include "common/time_format.hpp"

namespace projcache::db {

struct project_row {
  std::string id, name, path;
  std::optional<std::string> description;
  micros created_at = 0, updated_at = 0;
  std::optional<micros> last_fetched;
  std::string status = "active";  // active | stale | error
  std::optional<std::string> error_message;
};

// The read model keeps every artifact in memory: texts that repeat across rows are interned
// (8 bytes each, one copy of a hash, a project id or a description however many rows hold it).
struct artifact_row {
  std::string id;
  shared_text project_id, name, type;  // never null
  shared_text source, deployed_version, upstream_version;
  bool is_outdated = false, local_modified = false;
  micros created_at = 0, updated_at = 0;
  shared_text profile_root;  // never null
  shared_text from_collection, artifact_path;
  shared_text deployed_hash, local_hash, collection_hash;
  shared_text drift = "synced";
  shared_text deployed_at;
  // artifact_metadata
  shared_text description, tags, aliases, metadata_json;
};

// Rows of a rowid table from `first` to `last` (both included): a part of it read on its own.
struct rowid_range {
  std::int64_t first = 0, last = -1;
};

struct fingerprint_row {
  std::string path;
  std::int64_t size = 0, mtime_ns = 0, inode = 0;
  std::string sha256, listing_digest;
  micros seen_at = 0;
};

// The database file's pages: what is in use and what VACUUM would give back.
struct storage_usage {
  std::int64_t page_size = 0, page_count = 0, freelist_count = 0;
  std::int64_t file_bytes() const { return page_size * page_count; }
  std::int64_t free_bytes() const { return page_size * freelist_count; }
  std::int64_t used_bytes() const { return file_bytes() - free_bytes(); }
};

struct marketplace_row {
  std::string id, name, type, url;
  std::optional<std::string> description;
  micros cached_at = 0;
  std::optional<std::string> data;  // JSON text
};

template <class T>
struct page_result {
  std::vector<T> items;
  std::int64_t total = 0;
};

struct artifact_filter {
  std::optional<std::string> project_id, type;
  std::optional<bool> is_outdated;
};

}  // namespace projcache::db
