#pragma once
// The marketplace table: the listings as last fetched, and their retention. A thin view over a
// connection: make one where it is used (statements are cached by the connection).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/connection.hpp"
#include "db/types.hpp"

namespace projcache::db {

class marketplace_rows {
 public:
  explicit marketplace_rows(connection& c) : c_(c) {}

  void upsert(const std::vector<marketplace_row>& rows);
  // By lower(name), then id; limit < 0 is all.
  page_result<marketplace_row> list(const std::optional<std::string>& type, std::int64_t skip, std::int64_t limit);
  std::int64_t purge_older_than(micros cutoff);
  // The n least recently fetched, deleted; how many.
  std::int64_t delete_oldest(std::int64_t n);

 private:
  connection& c_;
};

}  // namespace projcache::db
