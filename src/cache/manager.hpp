#pragma once
// CacheManager: the store and the read model. Reads come from the in-memory snapshot and
// never wait for a write. Writes (apply a scan, mark error, invalidate, ...) are synchronous
// and must all run on one thread at a time: the refresh job's write strand, or the CLI.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/content_hash.hpp"
#include "cache/queries.hpp"
#include "cache/scanner.hpp"
#include "cache/settings.hpp"
#include "cache/snapshot.hpp"
#include "cache/store_health.hpp"
#include "db/types.hpp"

namespace projcache::db {
class connection;
class repository;
}  // namespace projcache::db

namespace projcache::cache {

struct retention_outcome {
  std::int64_t fingerprints_purged = 0, fingerprints_kept = 0, marketplace_purged = 0;
};

struct size_cap_outcome {
  bool over_cap = false, still_over = false;
  std::int64_t before_bytes = 0, after_bytes = 0;
  std::int64_t fingerprints_deleted = 0, marketplace_deleted = 0;
};

struct apply_outcome {
  bool is_new = false;
  bool changed = false;
  std::vector<std::string> added, removed, changed_ids;
};

class manager {
 public:
  explicit manager(settings s);
  ~manager();

  // Opens (or rebuilds after corruption) the store and loads the read model from it.
  void open();
  const settings& config() const { return settings_; }
  // Set when open() found a corrupt file and moved it aside: (where, why).
  std::optional<std::pair<std::string, std::string>> corruption() const { return corruption_; }

  // ---- reads (any thread)
  snapshot_ptr current() const { return snap_.get(); }
  bool is_stale(const project_entry& p, micros now) const;
  status_view status() const;
  page<project_ptr> list_projects(const project_query& q) const;
  page<artifact_ptr> list_artifacts(const artifact_query& q) const;
  page<stale_item> stale_artifacts(const stale_query& q) const;
  page<search_item> search(const search_query& q) const;
  project_ptr project(const std::string& id) const;
  db::page_result<db::marketplace_row> marketplace(const std::optional<std::string>& type,
                                                   std::int64_t skip, std::int64_t limit) const;
  std::optional<micros> marketplace_age() const;
  // Counts a read of a project: a hit when cached and fresh, else a miss. True when the project
  // is cached but stale and should be refreshed in the background (the service does that).
  bool count_read(const std::optional<std::string>& project_id) const;

  // ---- explicit projects: the configured ones, then those registered at run time (any thread)
  std::vector<std::filesystem::path> explicit_projects() const;
  bool is_registered(const std::filesystem::path& resolved) const;

  // ---- the store's health: a failed write is recorded here, not fatal (any thread)
  bool store_degraded() const { return health_.degraded(); }
  // Records a failed write made outside the manager's own methods (WAL upkeep).
  void note_store_failure(const std::string& what, int sqlite_code);
  // A small write that tells whether the store takes writes again (the write strand).
  bool probe_store();

  // ---- publishing (the write strand only). Writes go to the store at once but reach the
  // snapshot readers see in batches: each write stages its project's new entry, and publish()
  // puts everything staged into one new snapshot (see with_projects). The refresh job decides
  // when, and sends a project's events only after the snapshot holding it is out.
  bool has_staged() const { return !staged_.empty(); }
  // Publishes what is staged; false when nothing was.
  bool publish();
  // A project as the writes left it: staged, else as published (null when absent or removed).
  project_ptr latest(const std::string& id) const;

  // ---- writes (the write strand only). Only apply_scan and clear throw when the store fails
  // (the refresh is then retried, or the clear refused); the others record the failure, and
  // their change is served from memory all the same.
  // Registers a resolved project path, persisted; false when it was registered already.
  bool register_project(const std::filesystem::path& resolved);
  // Forgets a registered path; false when it was not registered.
  bool forget_project(const std::filesystem::path& resolved);
  apply_outcome apply_scan(const project_scan& scan);
  // Marks a project error, keeping its last good rows; creates the row when it is new.
  void mark_error(const std::string& id, const std::filesystem::path& path, const std::string& message);
  // A discovered project not cached yet: a row with status stale and last_fetched NULL.
  bool add_project(const std::filesystem::path& resolved);
  void remove_project(const std::string& id);
  std::int64_t invalidate(const std::optional<std::string>& id);
  void clear();
  // Writes the fetch times of unchanged refreshes, which are batched: one transaction for a
  // whole refresh instead of one per project. Losing them in a crash only makes those projects
  // look stale, so they are refreshed again.
  void flush_touches();
  // Checkpoints every few hundred writes, and truncates a WAL that grew past its bound, so the
  // -wal file stays small on a server that runs for weeks. Called by the refresh job after it
  // published its events, so a checkpoint's fsync never delays an event.
  void maintain_wal();
  // ---- housekeeping (manager_upkeep.cpp; the write strand only)
  db::storage_usage storage_usage();
  std::int64_t wal_bytes() const;
  std::int64_t db_bytes() const;
  std::uint64_t wal_checkpoints_busy() const { return wal_busy_.load(); }
  // Fingerprints whose path was not seen since cutoff: the candidates for the retention purge.
  // Paths whose fingerprint was last seen before cutoff (write strand).
  std::vector<std::string> fingerprints_seen_before(micros cutoff) const;
  // Forgets the fingerprints of paths gone from disk, marks the others seen at `now`, and drops
  // marketplace rows fetched before market_cutoff.
  retention_outcome apply_retention(const std::vector<std::string>& gone, const std::vector<std::string>& alive,
                                    micros now, micros market_cutoff);
  // Over the cap, the least recently seen fingerprints go first, then the oldest marketplace
  // rows (both are rebuilt on demand); projects and artifacts are the cache itself and stay.
  size_cap_outcome enforce_size_cap(std::int64_t cap_bytes);
  // VACUUM when at least a quarter of the file (and 1 MiB) is free pages, or when forced.
  bool vacuum_if_worthwhile(micros now, bool force);
  // ANALYZE when never done, older than a week, or after a VACUUM.
  bool analyze_if_due(micros now, bool force);
  void replace_marketplace(const std::vector<db::marketplace_row>& fresh, micros drop_older_than);
  bool set_meta(const std::string& key, const std::string& value);

  // ---- shared with the scans
  collection_store& collections() { return collections_; }
  deployed_cache& deployed_files() { return deployed_; }
  const content_hasher& hasher() const { return hasher_; }
  hash_stats& stats() { return stats_; }
  fingerprint_cache& fingerprints() { return fingerprints_; }

 private:
  void load();
  // Runs one write; a store failure is recorded in health_ (logged once per kind), not thrown.
  template <class F>
  bool try_write(const char* what, F&& write);
  void stage(const std::string& id, project_ptr entry) { staged_[id] = std::move(entry); }
  project_changes staged_;
  void reload_marketplace();
  int writes_since_checkpoint_ = 0;
  std::chrono::steady_clock::time_point next_truncate_try_{};
  std::atomic<std::uint64_t> wal_busy_{0};
  std::unordered_map<std::string, micros> pending_touches_;  // project id -> last_fetched

  settings settings_;
  std::unique_ptr<db::connection> conn_;
  std::unique_ptr<db::repository> repo_;
  snapshot_holder snap_;
  store_health health_;
  fingerprint_cache fingerprints_;
  hash_stats stats_;
  content_hasher hasher_;
  collection_store collections_;
  deployed_cache deployed_;
  std::optional<std::pair<std::string, std::string>> corruption_;
  mutable std::atomic<std::uint64_t> hits_{0}, misses_{0};
  std::int64_t db_file_size(std::uint64_t generation) const;
  mutable std::mutex size_mu_;
  mutable std::int64_t size_bytes_ = 0;
  mutable std::uint64_t size_generation_ = 0;
  mutable std::chrono::steady_clock::time_point size_checked_{};
  mutable std::mutex registered_mu_;
  std::vector<std::filesystem::path> registered_;  // sorted
  mutable std::mutex market_mu_;
  std::vector<db::marketplace_row> market_;  // by (lower name, id)
};

}  // namespace projcache::cache
