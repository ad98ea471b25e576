#pragma once
// The file_fingerprints table: what the hasher knew of each path (size, mtime, inode, its
// SHA-256) and when the path was last seen, for the retention purge and the size cap. A thin
// view over a connection: make one where it is used (statements are cached by the connection).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "db/connection.hpp"
#include "db/types.hpp"

namespace projcache::db {

class fingerprint_rows {
 public:
  explicit fingerprint_rows(connection& c) : c_(c) {}

  // Every row, one at a time (the hasher's cache is loaded this way at start).
  void for_each(const std::function<void(fingerprint_row&&)>& f);
  void upsert(const std::vector<fingerprint_row>& rows);
  std::vector<std::string> paths_seen_before(micros cutoff);
  void erase(const std::vector<std::string>& paths);
  void touch(const std::vector<std::string>& paths, micros seen_at);
  // The n least recently seen, deleted; their paths.
  std::vector<std::string> delete_oldest(std::int64_t n);
  std::int64_t count();
  // Bytes the table and its index take (dbstat); nothing when SQLite lacks dbstat.
  std::optional<std::int64_t> bytes();

 private:
  connection& c_;
};

}  // namespace projcache::db
