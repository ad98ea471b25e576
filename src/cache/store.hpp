#pragma once
// The store: the write side of the cache. Each write (apply a scan, mark an error, invalidate,
// ...) goes to the database and stages its project's new entry; publish() puts everything
// staged into one new snapshot of the read model, which readers query (read_model.hpp). Writes
// are synchronous and must all run on one thread at a time: the write strand, or the CLI.
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cache/scanner.hpp"
#include "cache/settings.hpp"
#include "cache/snapshot.hpp"
#include "db/types.hpp"

namespace projcache::db {
class connection;
}

namespace projcache::cache {

class database;
class read_model;
class fingerprint_cache;

struct apply_outcome {
  bool is_new = false;
  bool changed = false;
  std::vector<std::string> added, removed, changed_ids;
  int failure = 0;  // SQLite's code when the database refused the scan's rows (nothing staged)
};

class store {
 public:
  // What it publishes goes to `reads`; the scans' fingerprints are loaded into and written from
  // `fingerprints`. All three must outlive it.
  store(settings s, database& db, read_model& reads, fingerprint_cache& fingerprints);
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  // Loads the read model and the registered paths from the opened database, replacing whatever
  // an earlier load put there. The rows come from the snapshot file a clean stop kept beside
  // the database when it still matches the file (true), else from the database.
  bool load();
  // At a clean stop: writes the pending fetch times, reads the rows back from the database,
  // closes it (folding the WAL into the file) and keeps the rows beside it for the next load.
  void close_keeping_rows();
  // Replaces the scans' fingerprints with those in `from` (any thread: the cache locks).
  void load_fingerprints(db::connection& from);
  const settings& config() const { return settings_; }

  // ---- explicit projects: the configured ones, then those registered at run time (any thread)
  std::vector<std::filesystem::path> explicit_projects() const;
  bool is_registered(const std::filesystem::path& resolved) const;

  // ---- publishing (the write strand only). The refresh job decides when, and sends a
  // project's events only after the snapshot holding it is out.
  bool has_staged() const { return !staged_.empty(); }
  // Publishes what is staged; false when nothing was.
  bool publish();
  // A project as the writes left it: staged, else as published (null when absent or removed).
  project_ptr latest(const std::string& id) const;

  // ---- writes (the write strand only). A scan whose rows could not be written says so in its
  // outcome (the refresh is then retried) and clear throws (the clear is refused); the others
  // record the failure in the database's health, and their change is served from memory.
  // Registers a resolved project path, persisted; false when it was registered already.
  bool register_project(const std::filesystem::path& resolved);
  // Forgets a registered path; false when it was not registered.
  bool forget_project(const std::filesystem::path& resolved);
  // Writes the scans of different projects in one transaction: one commit for all instead of
  // one each (a commit rewrites the index pages the projects share), then stages each.
  std::vector<apply_outcome> apply_scans(const std::vector<const project_scan*>& scans);
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
  void replace_marketplace(const std::vector<db::marketplace_row>& fresh, micros drop_older_than);
  bool set_meta(const std::string& key, const std::string& value);
  // A small write that tells whether the database takes writes again.
  bool probe();

 private:
  void stage(const std::string& id, project_ptr entry) { staged_[id] = std::move(entry); }

  settings settings_;
  database& db_;
  read_model& reads_;
  fingerprint_cache& fingerprints_;
  project_changes staged_;
  // Fetch times are written when the refresh queue drains, or in batches this big. A batch of
  // random projects dirties nearly every page of the projects table and its last_fetched index,
  // so a small fixed batch (512 once) made a full refresh's writes grow with the square of the
  // projects. A lost batch (a crash) loses fetch times only; a restart refreshes anyway.
  static constexpr std::size_t touches_per_flush = 16384;
  std::unordered_map<std::string, micros> pending_touches_;  // project id -> last_fetched
  mutable std::mutex registered_mu_;
  std::vector<std::filesystem::path> registered_;  // sorted
};

}  // namespace projcache::cache
