#pragma once
// One method per use case over one connection. Expected failures (not found, a constraint)
// come back in result<>; anything else throws db_error with context.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "db/connection.hpp"
#include "db/error.hpp"
#include "db/types.hpp"

namespace projcache::db {

class repository {
 public:
  explicit repository(connection& c) : c_(c) {}
  connection& conn() { return c_; }

  // --- projects
  // The reads are what the cache loads at start and what `projcache status` counts: the server
  // answers every query from its snapshot, never from SQL.
  result<void> create_project(const project_row& p);
  // Every project, by name (case-insensitively), then id.
  std::vector<project_row> all_projects();
  void upsert_project(const project_row& p);
  result<void> delete_project(const std::string& id);
  std::vector<project_row> stale_projects(micros now, std::int64_t ttl_minutes);
  // Invalidate: last_fetched = NULL, status = 'stale'. All projects when id is empty.
  std::int64_t invalidate(const std::optional<std::string>& id);
  void clear_all();

  // --- artifacts (repository_artifacts.cpp)
  page_result<artifact_row> list_artifacts(const artifact_filter& f, std::int64_t skip,
                                           std::int64_t limit);
  // Every artifact, one at a time: loading 50,000 never holds them all twice.
  void for_each_artifact(const std::function<void(artifact_row&&)>& f);
  void upsert_artifacts(const std::vector<artifact_row>& rows);
  // Deletes the project's artifacts whose id is not in keep.
  std::int64_t delete_missing_artifacts(const std::string& project_id,
                                        const std::vector<std::string>& keep);
  void delete_artifacts(const std::vector<std::string>& ids);
  std::int64_t count_artifacts();

  // --- marketplace
  void upsert_marketplace(const std::vector<marketplace_row>& rows);
  page_result<marketplace_row> list_marketplace(const std::optional<std::string>& type,
                                                std::int64_t skip, std::int64_t limit);
  std::int64_t purge_marketplace_older_than(micros cutoff);

  // --- project paths registered at run time (the API's POST /cache/projects)
  std::vector<std::string> registered_projects();
  // True when the path was not registered yet.
  bool add_registered_project(const std::string& path);
  // True when the path was registered.
  bool remove_registered_project(const std::string& path);

  // --- cache_metadata
  std::optional<std::string> get_meta(const std::string& key);
  void set_meta(const std::string& key, const std::string& value);

  // --- fingerprints
  void for_each_fingerprint(const std::function<void(fingerprint_row&&)>& f);
  void upsert_fingerprints(const std::vector<fingerprint_row>& rows);
  std::vector<std::string> fingerprint_paths_seen_before(micros cutoff);

  // --- upkeep (repository_upkeep.cpp)
  storage_usage usage();
  void delete_fingerprints(const std::vector<std::string>& paths);
  void touch_fingerprints(const std::vector<std::string>& paths, micros seen_at);
  // The n least recently seen fingerprints, deleted; their paths.
  std::vector<std::string> delete_oldest_fingerprints(std::int64_t n);
  // The n least recently fetched marketplace rows, deleted; how many.
  std::int64_t delete_oldest_marketplace(std::int64_t n);
  std::int64_t count_fingerprints();
  // Bytes the fingerprints table and its index take (dbstat); nothing when SQLite lacks dbstat.
  std::optional<std::int64_t> fingerprint_bytes();
  // VACUUM and ANALYZE, each recording when it ran (meta last_vacuum / last_analyze): the one
  // path for the housekeeper, the size cap and `projcache vacuum`.
  void vacuum(micros now);
  void analyze(micros now);

 private:
  connection& c_;
};

// Maps a failed write to an expected error code when it is one (constraint), else rethrows.
result<void> expected_write_failure(const db_error& e);

}  // namespace projcache::db
