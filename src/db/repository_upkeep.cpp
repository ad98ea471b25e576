// Housekeeping queries: page usage, retention and size-cap deletes, VACUUM and ANALYZE.
#include "db/repository.hpp"

#include "common/time_format.hpp"

namespace projcache::db {

storage_usage repository::usage() {
  storage_usage u;
  u.page_size = c_.query_int("PRAGMA page_size");
  u.page_count = c_.query_int("PRAGMA page_count");
  u.freelist_count = c_.query_int("PRAGMA freelist_count");
  return u;
}

void repository::delete_fingerprints(const std::vector<std::string>& paths) {
  auto st = c_.prepare_cached("DELETE FROM file_fingerprints WHERE path = ?");
  for (auto& p : paths) {
    st->bind_all(p).run();
    st->reset();
  }
}

void repository::touch_fingerprints(const std::vector<std::string>& paths, micros seen_at) {
  auto st = c_.prepare_cached("UPDATE file_fingerprints SET seen_at = ? WHERE path = ?");
  std::string t = format_db_time(seen_at);
  for (auto& p : paths) {
    st->bind_all(t, p).run();
    st->reset();
  }
}

std::vector<std::string> repository::delete_oldest_fingerprints(std::int64_t n) {
  std::vector<std::string> out;
  auto st = c_.prepare_cached(
      "DELETE FROM file_fingerprints WHERE path IN "
      "(SELECT path FROM file_fingerprints ORDER BY seen_at, path LIMIT ?) RETURNING path");
  st->bind_all(n);
  while (st->step()) out.push_back(st->text(0));
  return out;
}

std::int64_t repository::delete_oldest_marketplace(std::int64_t n) {
  c_.prepare_cached(
        "DELETE FROM marketplace WHERE id IN (SELECT id FROM marketplace ORDER BY cached_at, id LIMIT ?)")
      ->bind_all(n)
      .run();
  return c_.changes();
}

std::int64_t repository::count_fingerprints() { return c_.query_int("SELECT COUNT(*) FROM file_fingerprints"); }

std::optional<std::int64_t> repository::fingerprint_bytes() {
  try {
    return c_.query_int(
        "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN "
        "('file_fingerprints', 'sqlite_autoindex_file_fingerprints_1')");
  } catch (const db_error&) {
    return std::nullopt;  // built without SQLITE_ENABLE_DBSTAT_VTAB
  }
}

void repository::vacuum(micros now) {
  c_.exec("VACUUM");
  set_meta("last_vacuum", format_api_time(now));
}

// Sampled: the planner needs rough row counts, and a full ANALYZE of a big cache holds the
// write strand for tens of milliseconds.
void repository::analyze(micros now) {
  c_.exec("PRAGMA analysis_limit=1000; ANALYZE");
  set_meta("last_analyze", format_api_time(now));
}

}  // namespace projcache::db
