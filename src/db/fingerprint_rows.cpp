// The content fingerprints: what the hasher knows of each path, and their retention.
#include "db/fingerprint_rows.hpp"

#include "common/time_format.hpp"
#include "db/error.hpp"

namespace projcache::db {

void fingerprint_rows::for_each(const std::function<void(fingerprint_row&&)>& f) {
  auto st = c_.prepare_cached(
      "SELECT path, size, mtime_ns, inode, sha256, listing_digest, seen_at FROM file_fingerprints");
  while (st->step())
    f({st->text(0), st->int64(1), st->int64(2), st->int64(3), st->text(4), st->text(5),
       parse_time(st->text(6)).value_or(0)});
}

void fingerprint_rows::upsert(const std::vector<fingerprint_row>& rows) {
  auto st = c_.prepare_cached(
      "INSERT INTO file_fingerprints(path, size, mtime_ns, inode, sha256, listing_digest, "
      "seen_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(path) DO UPDATE SET size=excluded.size, "
      "mtime_ns=excluded.mtime_ns, inode=excluded.inode, sha256=excluded.sha256, "
      "listing_digest=excluded.listing_digest, seen_at=excluded.seen_at");
  for (auto& r : rows) {
    st->bind_all(r.path, r.size, r.mtime_ns, r.inode, r.sha256, r.listing_digest,
                 format_db_time(r.seen_at))
        .run();
    st->reset();
  }
}

std::vector<std::string> fingerprint_rows::paths_seen_before(micros cutoff) {
  std::vector<std::string> out;
  auto st = c_.prepare_cached("SELECT path FROM file_fingerprints WHERE seen_at < ?");
  st->bind_all(format_db_time(cutoff));
  while (st->step()) out.push_back(st->text(0));
  return out;
}

void fingerprint_rows::erase(const std::vector<std::string>& paths) {
  auto st = c_.prepare_cached("DELETE FROM file_fingerprints WHERE path = ?");
  for (auto& p : paths) {
    st->bind_all(p).run();
    st->reset();
  }
}

void fingerprint_rows::touch(const std::vector<std::string>& paths, micros seen_at) {
  auto st = c_.prepare_cached("UPDATE file_fingerprints SET seen_at = ? WHERE path = ?");
  std::string t = format_db_time(seen_at);
  for (auto& p : paths) {
    st->bind_all(t, p).run();
    st->reset();
  }
}

std::vector<std::string> fingerprint_rows::delete_oldest(std::int64_t n) {
  std::vector<std::string> out;
  auto st = c_.prepare_cached(
      "DELETE FROM file_fingerprints WHERE path IN "
      "(SELECT path FROM file_fingerprints ORDER BY seen_at, path LIMIT ?) RETURNING path");
  st->bind_all(n);
  while (st->step()) out.push_back(st->text(0));
  return out;
}

std::int64_t fingerprint_rows::count() { return c_.query_int("SELECT COUNT(*) FROM file_fingerprints"); }

std::optional<std::int64_t> fingerprint_rows::bytes() {
  try {
    return c_.query_int(
        "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN "
        "('file_fingerprints', 'sqlite_autoindex_file_fingerprints_1')");
  } catch (const db_error&) {
    return std::nullopt;  // built without SQLITE_ENABLE_DBSTAT_VTAB
  }
}

}  // namespace projcache::db
