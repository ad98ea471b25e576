// The store's loads: the read model and the registered paths from the database (or from the
// rows a clean stop kept beside it), and the rows kept again at the next clean stop.
#include <atomic>
#include <boost/log/trivial.hpp>
#include <optional>

#include "cache/content_hash.hpp"
#include "cache/database.hpp"
#include "cache/read_model.hpp"
#include "cache/snapshot_file.hpp"
#include "cache/store.hpp"
#include "common/parallel.hpp"
#include "db/connection.hpp"
#include "db/error.hpp"
#include "db/fingerprint_rows.hpp"
#include "db/repository.hpp"
#include "db/store.hpp"
#include "platform/platform.hpp"

namespace fs = std::filesystem;

namespace projcache::cache {

namespace {
// One part's rows by project. Rows come in table order, in which a project's rows are mostly
// next to each other: the map is looked up only when the project changes.
using rows_by_project = decltype(stored_rows::artifacts);

void read_part(db::repository& repo, db::rowid_range part, rows_by_project& out) {
  std::vector<artifact_ptr>* rows = nullptr;
  shared_text project;
  repo.for_each_artifact(part, [&](db::artifact_row&& a) {
    if (!rows || !(a.project_id == project)) {
      project = a.project_id;
      rows = &out[*project];
    }
    rows->push_back(std::make_shared<const db::artifact_row>(std::move(a)));
  });
}

// Every artifact row, read on as many threads (the first on `main`, the others each on a
// read-only connection of their own, each through a map of the whole file). The table is cut
// into more pieces than threads, taken in turn: with one half each, the two threads of a
// two-core machine ended 40-50 ms apart (one core is often slower for a while), and the load
// waited for the slower.
rows_by_project read_artifacts(db::connection& main, const std::string& path) {
  std::size_t threads = load_parts();
  auto pieces = db::repository(main).artifact_parts(threads * 8);
  std::atomic<std::size_t> next{0};
  std::vector<rows_by_project> got(threads);
  run_in_parallel(threads, [&](std::size_t i) {
    std::optional<db::connection> own;
    if (i > 0) {
      own.emplace(path, db::connection::mode::read_only);
      own->set_mmap_size(db::whole_file_map_bytes);
    }
    db::repository repo(i == 0 ? main : *own);
    for (std::size_t k; (k = next.fetch_add(1, std::memory_order_relaxed)) < pieces.size();)
      read_part(repo, pieces[k], got[i]);
  });
  if (got.empty()) return {};
  for (std::size_t i = 1; i < got.size(); ++i)
    for (auto& [id, rows] : got[i]) {
      auto& into = got[0][id];  // a project may straddle pieces read on different threads
      into.insert(into.end(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
    }
  return std::move(got[0]);
}

stored_rows read_rows(database& db, const std::string& path) {
  stored_rows out;
  out.artifacts = read_artifacts(db.conn(), path);
  out.projects = db.repo().all_projects();
  return out;
}

// The projects' entries (each sorts its rows and counts them), built in parts too.
std::vector<project_ptr> entries_of(std::vector<db::project_row> projects, rows_by_project& rows) {
  std::vector<project_ptr> out(projects.size());
  std::vector<std::vector<artifact_ptr>*> theirs;
  theirs.reserve(projects.size());
  for (auto& p : projects) theirs.push_back(&rows[p.id]);  // one thread touches the map
  std::size_t parts = projects.size() < 64 ? 1 : load_parts();
  run_in_parallel(parts, [&](std::size_t part) {
    for (std::size_t i = part; i < projects.size(); i += parts)
      out[i] = make_project_entry(std::move(projects[i]), std::move(*theirs[i]));
  });
  return out;
}
}  // namespace

bool store::load() {
  staged_.clear();
  pending_touches_.clear();
  std::string why;
  auto rows = take_snapshot_file(settings_.db_path, why);
  if (!why.empty())
    BOOST_LOG_TRIVIAL(info) << "not using the rows kept at the last stop (" << why << "); reading the database";
  bool kept = rows.has_value();
  if (!kept) rows = read_rows(db_, settings_.db_path.string());
  auto entries = entries_of(std::move(rows->projects), rows->artifacts);
  rows.reset();
  {
    std::vector<fs::path> registered;
    for (auto& p : db_.repo().registered_projects()) registered.emplace_back(p);
    std::lock_guard lk(registered_mu_);
    registered_ = std::move(registered);
  }
  // A later generation than anything served before: a reload (the file was swapped while
  // serving) must not match a body cached from the old one.
  reads_.install(build_snapshot(std::move(entries), reads_.current()->generation + 1));
  reads_.set_marketplace(db_.marketplace_listings());
  // Loading freed many short-lived rows among the long-lived ones: give the holes back.
  platform::release_free_memory();
  return kept;
}

void store::close_keeping_rows() {
  flush_touches();
  if (!db_.is_open()) return;
  std::optional<stored_rows> rows;
  try {
    db_.map_for_load();
    rows = read_rows(db_, settings_.db_path.string());
  } catch (const db::db_error& e) {
    BOOST_LOG_TRIVIAL(debug) << "no snapshot kept: " << e.what();
  }
  db_.close();
  if (rows) keep_snapshot_file(settings_.db_path, *rows);
}

void store::load_fingerprints(db::connection& from) {
  fingerprints_.clear();  // a second load (the first file was corrupt) starts from nothing
  db::fingerprint_rows(from).for_each([&](db::fingerprint_row&& r) { fingerprints_.load_one(std::move(r)); });
}

}  // namespace projcache::cache
