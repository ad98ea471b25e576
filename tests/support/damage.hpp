#pragma once
// Damage in a database file that a start-up load does not read but the integrity check does:
// the first page of one table overwritten with junk (tests of the check found after serving).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "db/connection.hpp"

namespace projcache::test {

inline void damage_table_root(const std::filesystem::path& db, const std::string& table) {
  std::int64_t page = 0, root = 0;
  {
    db::connection c(db.string());
    page = c.query_int("PRAGMA page_size");
    root = c.query_int("SELECT rootpage FROM sqlite_master WHERE name = '" + table + "'");
  }
  std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>((root - 1) * page));
  std::string junk(static_cast<std::size_t>(page), '\x5a');
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
}

}  // namespace projcache::test
