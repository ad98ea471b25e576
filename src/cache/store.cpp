#include "cache/store.hpp"

#include <algorithm>
#include <boost/log/trivial.hpp>
#include <optional>
#include <span>
#include <unordered_map>

#include "cache/content_hash.hpp"
#include "cache/database.hpp"
#include "cache/read_model.hpp"
#include "common/paths.hpp"
#include "db/connection.hpp"
#include "db/error.hpp"
#include "db/fingerprint_rows.hpp"
#include "db/marketplace_rows.hpp"
#include "db/store.hpp"
#include "db/repository.hpp"
#include "db/transaction.hpp"

namespace fs = std::filesystem;

namespace projcache::cache {

namespace {
// Same derived content, timestamps aside.
bool same_content(const db::artifact_row& a, const db::artifact_row& b) {
  return a.name == b.name && a.type == b.type && a.source == b.source &&
         a.deployed_version == b.deployed_version && a.upstream_version == b.upstream_version &&
         a.is_outdated == b.is_outdated && a.local_modified == b.local_modified &&
         a.profile_root == b.profile_root && a.from_collection == b.from_collection &&
         a.artifact_path == b.artifact_path && a.deployed_hash == b.deployed_hash &&
         a.local_hash == b.local_hash && a.collection_hash == b.collection_hash &&
         a.drift == b.drift && a.deployed_at == b.deployed_at && a.description == b.description &&
         a.tags == b.tags && a.aliases == b.aliases && a.metadata_json == b.metadata_json;
}
}  // namespace

bool store::probe() {
  return db_.try_write("checking that the store takes writes again",
                      [&] { db_.repo().set_meta("store_probe", format_api_time(now_micros())); });
}

store::store(settings s, database& db, read_model& reads, fingerprint_cache& fingerprints)
    : settings_(std::move(s)), db_(db), reads_(reads), fingerprints_(fingerprints) {}

store::~store() {
  try {
    flush_touches();
  } catch (const std::exception& e) {
    BOOST_LOG_TRIVIAL(warning) << "could not write the last fetch times: " << e.what();
  }
}

std::vector<fs::path> store::explicit_projects() const {
  auto out = settings_.explicit_projects;
  std::lock_guard lk(registered_mu_);
  out.insert(out.end(), registered_.begin(), registered_.end());
  return out;
}

bool store::is_registered(const fs::path& resolved) const {
  std::lock_guard lk(registered_mu_);
  return std::binary_search(registered_.begin(), registered_.end(), resolved);
}

bool store::register_project(const fs::path& resolved) {
  bool added = db_.repo().add_registered_project(resolved.string());
  std::lock_guard lk(registered_mu_);
  auto it = std::lower_bound(registered_.begin(), registered_.end(), resolved);
  if (it == registered_.end() || *it != resolved) registered_.insert(it, resolved);
  return added;
}

bool store::forget_project(const fs::path& resolved) {
  bool removed = db_.repo().remove_registered_project(resolved.string());
  std::lock_guard lk(registered_mu_);
  std::erase(registered_, resolved);
  return removed;
}

bool store::publish() {
  if (staged_.empty()) return false;
  reads_.install(with_projects(*reads_.current(), staged_));
  staged_.clear();
  return true;
}

project_ptr store::latest(const std::string& id) const {
  if (auto it = staged_.find(id); it != staged_.end()) return it->second;
  auto snap = reads_.current();
  auto it = snap->projects.find(id);
  return it == snap->projects.end() ? nullptr : it->second;
}

namespace {
// A scan's rows against the cached ones: unchanged rows are shared, the rest are written.
struct row_diff {
  std::vector<artifact_ptr> rows;       // the project's rows after the scan
  std::vector<db::artifact_row> writes;  // new and changed rows, to upsert
};

row_diff diff_rows(const project_ptr& old, const project_scan& scan, micros now, apply_outcome& out) {
  std::unordered_map<std::string, artifact_ptr> old_rows;
  if (old)
    for (auto& a : old->artifacts) old_rows.emplace(a->id, a);
  row_diff d;
  d.rows.reserve(scan.artifacts.size());
  for (auto& fresh : scan.artifacts) {
    auto it = old_rows.find(fresh.id);
    if (it != old_rows.end() && same_content(*it->second, fresh)) {
      d.rows.push_back(it->second);  // unchanged: share the row
      old_rows.erase(it);
      continue;
    }
    db::artifact_row r = fresh;
    r.updated_at = now;
    if (it != old_rows.end()) {
      r.created_at = it->second->created_at;
      out.changed_ids.push_back(r.id);
      old_rows.erase(it);
    } else {
      r.created_at = now;
      out.added.push_back(r.id);
    }
    d.writes.push_back(r);
    d.rows.push_back(std::make_shared<const db::artifact_row>(std::move(r)));
  }
  for (auto& [id, _] : old_rows) out.removed.push_back(id);
  std::sort(out.removed.begin(), out.removed.end());
  return d;
}

// The project's row after the scan; out.changed says whether anything a client sees moved.
db::project_row project_row_after(const project_ptr& old, const project_scan& scan, micros now, bool rows_written,
                                  apply_outcome& out) {
  db::project_row p;
  p.id = scan.id;
  p.path = scan.path.string();
  p.name = scan.name;
  p.description = scan.description;
  p.created_at = old ? old->row.created_at : now;
  bool meta_changed = !old || old->row.name != p.name || old->row.description != p.description ||
                      old->row.path != p.path;
  bool touched = meta_changed || rows_written || !out.removed.empty() || (old && old->row.status != "active");
  p.updated_at = touched ? now : old->row.updated_at;
  p.last_fetched = now;
  p.status = "active";
  out.changed = !out.added.empty() || !out.removed.empty() || !out.changed_ids.empty() || (old && meta_changed);
  return p;
}

// One scan's writes, worked out before the transaction.
struct planned_write {
  project_ptr old;
  row_diff diff;
  db::project_row row;
  bool touch_only = false;  // only the fetch time moved: batched, not written now
};

planned_write plan_of(const project_ptr& old, const project_scan& scan, micros now, apply_outcome& out) {
  planned_write w;
  w.old = old;
  out.is_new = !old;
  w.diff = diff_rows(old, scan, now, out);
  w.row = project_row_after(old, scan, now, !w.diff.writes.empty(), out);
  w.touch_only = old && !out.changed && old->row.status == "active" && w.row.updated_at == old->row.updated_at;
  return w;
}

// The scans' rows (those in `which`) and, with `fingerprints`, the hashes they computed, in one
// transaction. Throws db_error; nothing of it is kept then.
void commit_rows(database& db, const std::vector<planned_write>& plans, const std::vector<apply_outcome>& out,
                 std::span<const std::size_t> which, const std::vector<db::fingerprint_row>* fingerprints) {
  db::transaction tx(db.conn());
  for (auto i : which) {
    db.repo().upsert_project(plans[i].row);
    db.repo().upsert_artifacts(plans[i].diff.writes);
    db.repo().delete_artifacts(out[i].removed);
  }
  if (fingerprints) db::fingerprint_rows(db.conn()).upsert(*fingerprints);
  tx.commit();
}

// One transaction for the whole batch. When it fails, each scan is tried alone: rows the
// database refuses then fail their own scan only, and on a full disk every one fails again, at
// once. (A savepoint per scan would tell the same in one transaction, but SQLite copies the
// pages a savepoint changes to a statement journal on disk: it doubled the writes.)
void write_plans(database& db, fingerprint_cache& fingerprints, const std::vector<planned_write>& plans,
                 std::vector<apply_outcome>& out) {
  auto dirty = fingerprints.take_dirty();
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < plans.size(); ++i)
    if (!plans[i].touch_only) todo.push_back(i);
  if (todo.empty() && dirty.empty()) return;
  auto attempt = [&](std::span<const std::size_t> which, bool with_fingerprints) {
    try {
      commit_rows(db, plans, out, which, with_fingerprints ? &dirty : nullptr);
    } catch (const db::db_error& e) {
      db.note_failure("writing project rows", e.sqlite_code());
      return e.sqlite_code();
    }
    db.note_success();
    db.count_write();
    return 0;
  };
  int failed = attempt(todo, true);
  if (failed && todo.size() > 1) {
    for (auto i : todo) out[i].failure = attempt({&i, 1}, false);
    failed = attempt({}, true);
  } else {
    for (auto i : todo) out[i].failure = failed;
  }
  if (failed) fingerprints.restore_dirty(std::move(dirty));  // written with the next write that works
}
}  // namespace

std::vector<apply_outcome> store::apply_scans(const std::vector<const project_scan*>& scans) {
  micros now = now_micros();
  std::vector<apply_outcome> out(scans.size());
  std::vector<planned_write> plans;
  plans.reserve(scans.size());
  for (std::size_t i = 0; i < scans.size(); ++i) plans.push_back(plan_of(latest(scans[i]->id), *scans[i], now, out[i]));
  write_plans(db_, fingerprints_, plans, out);
  for (std::size_t i = 0; i < scans.size(); ++i) {
    if (out[i].failure) continue;
    auto& w = plans[i];
    const auto& id = scans[i]->id;
    if (w.touch_only) pending_touches_[id] = now;  // written with the next batch, served from memory now
    else pending_touches_.erase(id);
    if (w.old && !out[i].changed && w.old->row.status == "active") {
      // Only the fetch time moved: keep the very same artifact vector (no index rebuild).
      auto e = std::make_shared<project_entry>(*w.old);
      e->row = std::move(w.row);
      stage(id, std::move(e));
    } else {
      stage(id, make_project_entry(std::move(w.row), std::move(w.diff.rows)));
    }
  }
  if (pending_touches_.size() >= touches_per_flush) flush_touches();
  return out;
}

void store::flush_touches() {
  if (pending_touches_.empty() || !db_.is_open()) return;
  // On failure they stay pending, for the next flush.
  bool ok = db_.try_write("writing fetch times", [&] {
    db::transaction tx(db_.conn());
    db_.repo().touch_projects({pending_touches_.begin(), pending_touches_.end()});
    tx.commit();
  });
  if (!ok) return;
  pending_touches_.clear();
  db_.count_write();
}

void store::mark_error(const std::string& id, const fs::path& path, const std::string& message) {
  flush_touches();
  micros now = now_micros();
  db::project_row p;
  std::vector<artifact_ptr> rows;
  if (auto old = latest(id)) {
    p = old->row;
    rows = old->artifacts;
  } else {
    p.id = id;
    p.path = path.string();
    p.name = path.filename().string();
    p.created_at = now;
  }
  p.status = "error";
  p.error_message = message;
  p.updated_at = now;
  db_.try_write("recording a refresh error", [&] { db_.repo().upsert_project(p); });
  stage(id, make_project_entry(std::move(p), std::move(rows)));
}

bool store::add_project(const fs::path& resolved) {
  auto id = project_id_of(resolved);
  if (latest(id)) return false;
  db::project_row p;
  p.id = id;
  p.path = resolved.string();
  p.name = resolved.filename().string();
  p.created_at = p.updated_at = now_micros();
  p.status = "stale";
  db_.try_write("adding a project", [&] { db_.repo().upsert_project(p); });
  stage(id, make_project_entry(std::move(p), {}));
  return true;
}

void store::remove_project(const std::string& id) {
  db_.try_write("removing a project", [&] { (void)db_.repo().delete_project(id); });
  stage(id, nullptr);
}

std::int64_t store::invalidate(const std::optional<std::string>& id) {
  flush_touches();  // or a pending fetch time would overwrite the NULL
  if (id) pending_touches_.erase(*id);
  else pending_touches_.clear();
  db_.try_write("invalidating", [&] { db_.repo().invalidate(id); });
  publish();  // what is staged first, so the invalidation applies to the newest rows
  auto base = reads_.current();
  std::int64_t n = 0;
  auto s = std::make_shared<snapshot>(*base);
  s->generation = base->generation + 1;
  for (auto& p : s->projects_sorted) {
    if (id && p->row.id != *id) continue;
    ++n;
    auto e = std::make_shared<project_entry>(*p);
    e->row.last_fetched.reset();
    e->row.status = "stale";
    p = e;
    s->projects[e->row.id] = e;
  }
  reads_.install(std::move(s));
  return n;
}

void store::clear() {
  pending_touches_.clear();
  db_.repo().clear_all();
  staged_.clear();
  fingerprints_.clear();
  reads_.install(build_snapshot({}, reads_.current()->generation + 1));
}

void store::replace_marketplace(const std::vector<db::marketplace_row>& fresh, micros drop_older_than) {
  db::transaction tx(db_.conn());
  db::marketplace_rows(db_.conn()).upsert(fresh);
  db::marketplace_rows(db_.conn()).purge_older_than(drop_older_than);
  tx.commit();
  reads_.set_marketplace(db_.marketplace_listings());
}

bool store::set_meta(const std::string& key, const std::string& value) {
  return db_.try_write("writing cache metadata", [&] { db_.repo().set_meta(key, value); });
}

}  // namespace projcache::cache
