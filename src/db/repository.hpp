#pragma once
// The cache's own rows (projects, artifacts, registered paths, metadata), one method per use
// case over one connection. Expected failures (not found, a constraint) come back in result<>;
// anything else throws db_error with context. The fingerprints and the marketplace have their
// own views (fingerprint_rows.hpp, marketplace_rows.hpp).
#include <functional>
#include <optional>
#include <string>
#include <utility>
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
  // Sets last_fetched alone (a refresh that found nothing changed); run it in a transaction.
  void touch_projects(const std::vector<std::pair<std::string, micros>>& fetched);
  // Invalidate: last_fetched = NULL, status = 'stale'. All projects when id is empty.
  std::int64_t invalidate(const std::optional<std::string>& id);
  void clear_all();

  // --- artifacts (repository_artifacts.cpp)
  page_result<artifact_row> list_artifacts(const artifact_filter& f, std::int64_t skip,
                                           std::int64_t limit);
  // Every artifact, one at a time and in no particular order: loading 50,000 never holds them
  // all twice.
  // The artifacts' rowids in `parts` runs of about equal length (fewer when there are fewer
  // rows), which for_each_artifact reads in table order, each on any connection.
  std::vector<rowid_range> artifact_parts(std::size_t parts);
  void for_each_artifact(rowid_range part, const std::function<void(artifact_row&&)>& f);
  void upsert_artifacts(const std::vector<artifact_row>& rows);
  void delete_artifacts(const std::vector<std::string>& ids);
  std::int64_t count_artifacts();

  // --- project paths registered at run time (the API's POST /cache/projects)
  std::vector<std::string> registered_projects();
  // True when the path was not registered yet.
  bool add_registered_project(const std::string& path);
  // True when the path was registered.
  bool remove_registered_project(const std::string& path);

  // --- cache_metadata
  std::optional<std::string> get_meta(const std::string& key);
  void set_meta(const std::string& key, const std::string& value);

  // --- upkeep (repository_upkeep.cpp)
  storage_usage usage();
  // VACUUM and ANALYZE, each recording when it ran (meta last_vacuum / last_analyze): the one
  // path for upkeep's schedule, the size cap and `projcache vacuum`.
  void vacuum(micros now);
  void analyze(micros now);

 private:
  // An artifact's metadata by its id, for a row whose metadata is not where the rowids say.
  void read_metadata_of(artifact_row& a);

  connection& c_;
};

// Maps a failed write to an expected error code when it is one (constraint), else rethrows.
result<void> expected_write_failure(const db_error& e);

}  // namespace projcache::db
