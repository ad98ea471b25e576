#include "db/connection.hpp"

#include <sqlite3.h>

#include "db/error.hpp"

namespace projcache::db {

namespace {
constexpr int busy_timeout_ms = 5000;

// A statement inside a transaction that may fail halfway (an upsert, a delete that cascades)
// keeps the pages it changes in a statement journal, to undo itself alone. SQLite keeps that
// journal in memory only up to 64 KiB, then in a temporary file: a cold scan of 1,000 projects
// wrote 130,000 pages to such files, against 80,000 to the WAL. Our statements change a few
// rows each; bigger ones (a clear, a retention purge) still spill. Set once, before SQLite
// starts (a later call is refused and changes nothing).
constexpr int statement_journal_in_memory_bytes = 4 << 20;

void configure_sqlite() {
  static const int once = sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, statement_journal_in_memory_bytes);
  (void)once;
}
}  // namespace

connection::connection(const std::string& path, mode m) : path_(path) {
  configure_sqlite();
  int flags = m == mode::read_only ? SQLITE_OPEN_READONLY
                                   : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw db_error(rc, "cannot open database " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  try {
    if (m == mode::read_write) {
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA journal_size_limit=67108864");
    }
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
  } catch (...) {
    cache_.clear();
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

connection::~connection() {
  cache_.clear();  // statements must be finalized before the handle closes
  if (db_) sqlite3_close_v2(db_);
}

void connection::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw db_error(rc, msg + " (in: " + s.substr(0, 120) + ")");
  }
}

cached_statement connection::prepare_cached(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it == cache_.end())
    it = cache_.emplace(std::string(sql), std::make_unique<statement>(db_, sql)).first;
  return cached_statement(*it->second);
}

statement connection::prepare(std::string_view sql) { return statement(db_, sql); }

std::string connection::query_text(std::string_view sql) {
  auto st = prepare(sql);
  return st.step() ? st.text(0) : std::string();
}

std::int64_t connection::query_int(std::string_view sql) {
  auto st = prepare(sql);
  return st.step() ? st.int64(0) : 0;
}

int connection::changes() const { return sqlite3_changes(db_); }

void connection::set_busy_timeout(int ms) { sqlite3_busy_timeout(db_, ms); }

void connection::set_mmap_size(std::int64_t bytes) { exec("PRAGMA mmap_size=" + std::to_string(bytes)); }

void connection::take_over_checkpoints(std::int64_t bound_bytes) {
  exec("PRAGMA wal_autocheckpoint=0");
  exec("PRAGMA journal_size_limit=" + std::to_string(bound_bytes));
}

checkpoint_result connection::checkpoint(checkpoint_mode m, int busy_ms) {
  int mode = m == checkpoint_mode::passive   ? SQLITE_CHECKPOINT_PASSIVE
             : m == checkpoint_mode::restart ? SQLITE_CHECKPOINT_RESTART
                                             : SQLITE_CHECKPOINT_TRUNCATE;
  checkpoint_result r;
  sqlite3_busy_timeout(db_, busy_ms);
  int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, mode, &r.wal_frames, &r.checkpointed_frames);
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    r.busy = true;
  } else if (rc != SQLITE_OK) {
    throw db_error(rc, std::string("checkpoint failed: ") + sqlite3_errmsg(db_));
  }
  return r;
}

}  // namespace projcache::db
