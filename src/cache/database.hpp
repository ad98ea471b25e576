#pragma once
// The cache's database file as the write side sees it: opened in a usable state (a corrupt file
// moved aside and rebuilt, checkpoints taken over, a large WAL left by the last run folded in),
// and the health of its writes. The store and upkeep share it, on the write strand; readers
// never touch it (they read the snapshot).
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cache/settings.hpp"
#include "cache/store_health.hpp"
#include "db/types.hpp"

namespace projcache::db {
class connection;
class repository;
}  // namespace projcache::db

namespace projcache::cache {

class database {
 public:
  explicit database(const settings& s);
  ~database();
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  // What is read on the integrity check's thread once the check passed, on that thread's own
  // connection: rows only the write side needs, kept off the way to the ready line.
  using beside_fn = std::function<void(db::connection&)>;

  // Opens the file, migrated; a file that is not a database is moved aside and a fresh one
  // made. Throws when the file cannot be opened at all (its folder unwritable, ...).
  void open();
  // Starts the integrity check of the file open() found, on a thread and connection of its
  // own, and then `read_beside` there. A new file has nothing to check.
  void start_check(beside_fn read_beside = {});
  // Takes the check's finding, waiting for it (off the I/O threads: it reads every page). When
  // it (or `unreadable`: a read that found the file corrupt) says the file is damaged, the file
  // is moved aside and a fresh one opened: false, and whatever was read from the old one must go.
  bool confirm_intact(std::optional<std::string> unreadable = std::nullopt);
  // The file read through a memory map, for the load; confirm_intact() ends it, off the way to
  // the ready line (unmapping tens of megabytes takes milliseconds).
  void map_for_load();
  bool is_open() const { return conn_ != nullptr; }
  // Closes the file; the last connection to close folds the WAL into it. Nothing may use it
  // after this but is_open().
  void close();
  db::connection& conn() { return *conn_; }
  db::repository& repo() { return *repo_; }
  // Set when open() found a corrupt file and moved it aside: (where, why).
  const std::optional<std::pair<std::string, std::string>>& corruption() const { return corruption_; }

  // Runs one write; a store failure is recorded in the health (logged once per kind) and
  // reported as false, never thrown.
  bool try_write(const char* what, const std::function<void()>& write);
  // Records a failed write whose error was handled by the caller.
  void note_failure(const std::string& what, int sqlite_code);
  void note_success() { health_.succeeded(); }
  bool degraded() const { return health_.degraded(); }
  store_state health() const { return health_.state(); }

  // Writes since the last checkpoint, which upkeep takes every few hundred (the write strand).
  void count_write() { ++writes_since_checkpoint_; }
  int writes_since_checkpoint() const { return writes_since_checkpoint_; }
  void checkpointed() { writes_since_checkpoint_ = 0; }

  // Every marketplace row, as the read model keeps them (by lower name, then id).
  std::vector<db::marketplace_row> marketplace_listings();

  std::int64_t db_bytes() const;
  std::int64_t wal_bytes() const;

 private:
  void connect();

  const std::string path_;
  const std::int64_t wal_bound_bytes_;
  std::unique_ptr<db::connection> conn_;
  std::unique_ptr<db::repository> repo_;
  bool found_file_ = false;  // open() opened an existing, sound-looking file
  std::future<std::optional<std::string>> check_;
  std::optional<std::pair<std::string, std::string>> corruption_;
  store_health health_;
  int writes_since_checkpoint_ = 0;
};

}  // namespace projcache::cache
