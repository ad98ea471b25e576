#pragma once
// Numbered up/down SQL migrations compiled into the binary (schema/NNN_name.{up,down}.sql),
// tracked in schema_migrations with a checksum so an edited, already-applied file is refused.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/connection.hpp"

namespace projcache::db {

const std::vector<std::pair<std::string_view, std::string_view>>& embedded_migrations();

struct migration {
  int version = 0;
  std::string name;
  std::string up_sql;
  std::string down_sql;
  std::string checksum;  // SHA-256 of up and down text
};

struct migration_state {
  int version;
  std::string name;
  bool applied;
  std::optional<std::string> applied_at;
  bool checksum_matches;  // true when not applied
};

class migration_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses (file name, text) pairs; throws migration_error on a missing half or a bad name.
std::vector<migration> parse_migrations(
    const std::vector<std::pair<std::string_view, std::string_view>>& files);

class migrator {
 public:
  explicit migrator(connection& c, std::vector<migration> all = parse_migrations(embedded_migrations()));
  // Applies every pending migration, each in its own transaction; returns how many ran.
  // Throws migration_error when an applied migration's checksum differs from the binary's.
  int up();
  // Reverts the newest n applied migrations; returns how many ran.
  int down(int n = 1);
  std::vector<migration_state> status();
  int current_version();

 private:
  void ensure_table();
  void verify_checksums();
  connection& c_;
  std::vector<migration> all_;
};

}  // namespace projcache::db
