#include "db/migrations.hpp"

#include <algorithm>
#include <map>

#include "common/sha256.hpp"
#include "common/time_format.hpp"
#include "db/transaction.hpp"

namespace projcache::db {

std::vector<migration> parse_migrations(
    const std::vector<std::pair<std::string_view, std::string_view>>& files) {
  std::map<int, migration> by_version;
  for (auto& [file, text] : files) {
    std::string f(file);
    bool up = f.ends_with(".up.sql"), down = f.ends_with(".down.sql");
    if (!up && !down) continue;
    auto us = f.find('_');
    if (us == std::string::npos || us == 0)
      throw migration_error("migration file name must be NNN_name.up.sql: " + f);
    int version = std::stoi(f.substr(0, us));
    auto& m = by_version[version];
    m.version = version;
    m.name = f.substr(us + 1, f.size() - us - 1 - (up ? 7 : 9));
    (up ? m.up_sql : m.down_sql) = std::string(text);
  }
  std::vector<migration> out;
  for (auto& [v, m] : by_version) {
    if (m.up_sql.empty() || m.down_sql.empty())
      throw migration_error("migration " + std::to_string(v) + " lacks its up or down file");
    sha256 h;
    h.update(m.up_sql);
    h.update("\n--down--\n");
    h.update(m.down_sql);
    m.checksum = h.hex_digest();
    out.push_back(std::move(m));
  }
  return out;
}

migrator::migrator(connection& c, std::vector<migration> all) : c_(c), all_(std::move(all)) {}

void migrator::ensure_table() {
  c_.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
      "NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)");
}

void migrator::verify_checksums() {
  auto st = c_.prepare("SELECT version, checksum FROM schema_migrations");
  while (st.step()) {
    int v = static_cast<int>(st.int64(0));
    auto it = std::find_if(all_.begin(), all_.end(), [&](auto& m) { return m.version == v; });
    if (it == all_.end())
      throw migration_error("database has migration " + std::to_string(v) +
                            " which this binary does not know (newer projcache?)");
    if (it->checksum != st.text(1))
      throw migration_error("applied migration " + std::to_string(v) + "_" + it->name +
                            " differs from the one in this binary (checksum mismatch)");
  }
}

int migrator::current_version() {
  ensure_table();
  return static_cast<int>(c_.query_int("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
}

int migrator::up() {
  ensure_table();
  verify_checksums();
  int current = current_version(), ran = 0;
  for (auto& m : all_) {
    if (m.version <= current) continue;
    transaction tx(c_);
    c_.exec(m.up_sql);
    c_.prepare("INSERT INTO schema_migrations(version, name, checksum, applied_at) VALUES (?,?,?,?)")
        .bind_all(m.version, m.name, m.checksum, format_api_time(now_micros()))
        .run();
    tx.commit();
    ++ran;
  }
  return ran;
}

int migrator::down(int n) {
  ensure_table();
  verify_checksums();
  int ran = 0;
  for (; ran < n; ++ran) {
    int current = current_version();
    if (current == 0) break;
    auto it = std::find_if(all_.begin(), all_.end(), [&](auto& m) { return m.version == current; });
    transaction tx(c_);
    c_.exec(it->down_sql);
    c_.prepare("DELETE FROM schema_migrations WHERE version = ?").bind_all(current).run();
    tx.commit();
  }
  return ran;
}

std::vector<migration_state> migrator::status() {
  // Read-only (status works beside a running server): no table yet means nothing applied.
  bool has_table = c_.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").step();
  std::vector<migration_state> out;
  for (auto& m : all_) {
    if (!has_table) {
      out.push_back({m.version, m.name, false, std::nullopt, true});
      continue;
    }
    auto st = c_.prepare("SELECT checksum, applied_at FROM schema_migrations WHERE version = ?");
    st.bind_all(m.version);
    if (st.step())
      out.push_back({m.version, m.name, true, st.text(1), st.text(0) == m.checksum});
    else
      out.push_back({m.version, m.name, false, std::nullopt, true});
  }
  return out;
}

}  // namespace projcache::db
