#pragma once
// RAII SQLite connection with the contract's PRAGMAs and a statement cache, so hot queries are
// prepared once. A connection is used by one thread at a time.
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "db/statement.hpp"

struct sqlite3;

namespace projcache::db {

// Resets a cached statement when the caller is done with it.
class cached_statement {
 public:
  explicit cached_statement(statement& s) : s_(&s) {}
  ~cached_statement() { s_->reset(); }
  cached_statement(const cached_statement&) = delete;
  statement* operator->() { return s_; }
  statement& operator*() { return *s_; }

 private:
  statement* s_;
};

// What a WAL checkpoint achieved: busy when a reader kept it from finishing.
struct checkpoint_result {
  bool busy = false;
  int wal_frames = 0, checkpointed_frames = 0;
};

class connection {
 public:
  enum class checkpoint_mode { passive, restart, truncate };
  enum class mode { read_write, read_only };
  // Opens (creating when read_write) and applies WAL, synchronous=NORMAL, foreign_keys=ON and
  // a busy timeout. Throws db_error.
  explicit connection(const std::string& path, mode m = mode::read_write);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  void exec(std::string_view sql);
  cached_statement prepare_cached(std::string_view sql);
  statement prepare(std::string_view sql);
  // The first column of the first row as text ("" when there is none).
  std::string query_text(std::string_view sql);
  std::int64_t query_int(std::string_view sql);
  int changes() const;
  // Waits for readers at most busy_ms (the connection's own busy timeout is restored after).
  checkpoint_result checkpoint(checkpoint_mode m, int busy_ms);
  void set_busy_timeout(int ms);
  // Checkpoints become the caller's (no automatic one in the middle of a write), and a reset
  // WAL is cut back to bound_bytes, so the file never keeps a one-off peak.
  void take_over_checkpoints(std::int64_t bound_bytes);
  // Reads up to `bytes` of the file through a memory map instead of a pread per page (0: none).
  // For a whole-file read (the load at start, the integrity check): a 70 MB cache is 17,000
  // page reads, a third of the load's time as system calls. Not kept on: mapped pages count in
  // the process's RSS.
  void set_mmap_size(std::int64_t bytes);
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<statement>> cache_;
};

}  // namespace projcache::db
