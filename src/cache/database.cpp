#include "cache/database.hpp"

#include "common/paths.hpp"
#include "db/connection.hpp"
#include "db/error.hpp"
#include "db/marketplace_rows.hpp"
#include "db/repository.hpp"
#include "db/store.hpp"

namespace projcache::cache {

database::database(const settings& s) : path_(s.db_path.string()), wal_bound_bytes_(s.wal_bound_bytes) {}

database::~database() = default;

void database::open() {
  bool existed = file_bytes(path_) > 0;
  auto report = db::prepare_store(path_, db::integrity_check::by_caller);
  if (report.moved_aside) corruption_ = std::pair(*report.moved_aside, report.reason);
  found_file_ = existed && !report.moved_aside;
  connect();
}

void database::start_check(beside_fn read_beside) {
  if (!found_file_ || check_.valid()) return;
  // PRAGMA quick_check reads every page: on a thread of its own, on its own connection, so it
  // overlaps the load (a one-shot) or the first reads (serve) instead of coming before them.
  // One connection for the check and what is read beside it: the pages are mapped once.
  check_ = std::async(std::launch::async, [p = path_, read = std::move(read_beside)]() -> std::optional<std::string> {
    try {
      db::connection c(p, db::connection::mode::read_only);
      c.set_mmap_size(db::whole_file_map_bytes);
      if (auto why = db::integrity_problem(c)) return why;
      if (read) read(c);
    } catch (const db::db_error& e) {
      if (!db::is_corruption(e)) throw;
      return e.what();
    }
    return std::nullopt;
  });
}

void database::connect() {
  conn_ = std::make_unique<db::connection>(path_);
  // Checkpoints are upkeep's (maintain_wal), off the path of a refresh's events.
  conn_->take_over_checkpoints(wal_bound_bytes_);
  repo_ = std::make_unique<db::repository>(*conn_);
}

void database::close() {
  repo_.reset();
  conn_.reset();
}

void database::map_for_load() { conn_->set_mmap_size(db::whole_file_map_bytes); }

bool database::confirm_intact(std::optional<std::string> unreadable) {
  // Every page was read once, through the map; from now on, page by page as written.
  try {
    conn_->set_mmap_size(0);
  } catch (const std::exception&) {  // the map stays until the connection closes: only RSS
  }
  std::optional<std::string> why = std::move(unreadable);
  if (check_.valid()) {
    auto found = check_.get();
    if (!why) why = std::move(found);
  }
  if (why) {
    repo_.reset();
    conn_.reset();
    corruption_ = std::pair(db::move_aside(path_, *why), *why);
    db::prepare_store(path_);
    connect();
  }
  // A large WAL left by the last run is folded in now, before the first refresh, not in the
  // middle of one.
  if (wal_bytes() > wal_bound_bytes_) conn_->checkpoint(db::connection::checkpoint_mode::truncate, 100);
  return !why;
}

bool database::try_write(const char* what, const std::function<void()>& write) {
  try {
    write();
  } catch (const db::db_error& e) {
    note_failure(what, e.sqlite_code());
    return false;
  }
  health_.succeeded();
  return true;
}

void database::note_failure(const std::string& what, int sqlite_code) {
  health_.failed(what, db::describe_failure(sqlite_code));
}

std::vector<db::marketplace_row> database::marketplace_listings() {
  return db::marketplace_rows(*conn_).list(std::nullopt, 0, -1).items;
}

std::int64_t database::wal_bytes() const { return file_bytes(path_ + "-wal"); }

std::int64_t database::db_bytes() const { return file_bytes(path_); }

}  // namespace projcache::cache
