#include "cache/scanner.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <exception>

#include "cache/derive.hpp"
#include "cache/stat_stamp.hpp"
#include "cache/discovery.hpp"
#include "cache/front_matter.hpp"
#include "common/paths.hpp"

namespace fs = std::filesystem;

namespace projcache::cache {

namespace {
std::string stamp_of_path(const fs::path& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? stat_stamp(st) : "-";
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

read_result<deployed_cache::entries> read_entries(const scan_context& ctx, const fs::path& file) {
  if (ctx.deployed) return ctx.deployed->read(file);
  auto r = read_deployed(file);
  if (!r) return r.error();
  return std::make_shared<const std::vector<deployed_entry>>(std::move(*r));
}

std::string strip_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}
}  // namespace

std::shared_ptr<const collection_snapshot> collection_store::get(const std::string& name) {
  fs::path dir = home_ / "collections" / name;
  std::string stamp = stamp_of_path(dir / "collection.toml") + "|" + stamp_of_path(dir / "collection.lock");
  {
    std::lock_guard lk(mu_);
    if (auto it = cache_.find(name); it != cache_.end() && it->second->stamp == stamp) return it->second;
  }
  auto snap = std::make_shared<collection_snapshot>();
  snap->name = name;
  snap->dir = dir;
  snap->stamp = stamp;
  std::error_code ec;
  snap->exists = safe_relative_path(name) && fs::is_regular_file(dir / "collection.toml", ec);
  if (snap->exists) {
    auto file = read_collection(dir / "collection.toml");
    if (!file) {
      snap->error = file.error();
    } else {
      snap->file = std::move(*file);
      auto lock = read_lock(dir / "collection.lock");
      if (!lock)
        snap->error = lock.error();
      else
        snap->lock = std::move(*lock);
    }
    for (auto& a : snap->file.artifacts) snap->by_key.emplace(std::pair(a.name, a.type), &a);
  }
  std::lock_guard lk(mu_);
  cache_[name] = snap;
  return snap;
}

read_result<deployed_cache::entries> deployed_cache::read(const fs::path& file) {
  struct stat st;
  std::string stamp;
  bool racy = true;
  if (::stat(file.c_str(), &st) == 0) {
    stamp = stat_stamp(st);
    racy = is_racy(mtime_ns(st));
  }
  if (!stamp.empty()) {
    std::lock_guard lk(mu_);
    if (auto it = cache_.find(file.string()); it != cache_.end() && it->second.first == stamp) return it->second.second;
  }
  auto parsed = read_deployed(file);
  if (!parsed) return parsed.error();
  entries e = std::make_shared<const std::vector<deployed_entry>>(std::move(*parsed));
  if (!stamp.empty() && !racy) {
    std::lock_guard lk(mu_);
    cache_[file.string()] = {stamp, e};
  }
  return e;
}

std::optional<std::string> collection_memo::hash(const fs::path& p, const content_hasher& h, cancel_token cancel) {
  {
    std::lock_guard lk(mu_);
    if (auto it = hashes_.find(p.string()); it != hashes_.end()) return it->second;
  }
  auto v = h.hash(p, cancel);
  std::lock_guard lk(mu_);
  hashes_[p.string()] = v;
  return v;
}

namespace {
// A text equal to the previous row's is shared from it: on a refresh that finds nothing changed
// (most of them) no text is interned again.
template <class V>
void keep_or_set(db::artifact_row& a, const db::artifact_row* prev, shared_text db::artifact_row::*field,
                 const V& value) {
  if (prev && prev->*field == value) a.*field = prev->*field;
  else a.*field = value;
}

// The name and description a profile root's project file gives, if any (the first one wins).
std::optional<read_error> read_identity(const fs::path& path, project_scan& out) {
  for (auto& root : out.profile_roots) {
    fs::path file = path / root / project_file_name;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) continue;
    auto pf = read_project_file(file);
    if (!pf) return pf.error();
    if (pf->name && !pf->name->empty() && out.name == path.filename().string()) {
      out.name = *pf->name;
      out.description = pf->description;
    }
  }
  return std::nullopt;
}

// Versions: the deployed one from the artifact's own bytes (kept from the previous row when
// those did not change), the upstream one from the collection's metadata, lock or hash.
void set_versions(db::artifact_row& a, const db::artifact_row* prev, const artifact_hashes& h,
                  const fs::path& local_path, const collection_snapshot& col, const collection_artifact* ca) {
  if (h.local) {
    if (prev && prev->local_hash == h.local && prev->deployed_hash == h.deployed) {
      a.deployed_version = prev->deployed_version;  // same bytes, same version
    } else {
      a.deployed_version = artifact_version(local_path);
      if (!a.deployed_version) a.deployed_version = short_hash(h.deployed);
    }
  } else {
    keep_or_set(a, prev, &db::artifact_row::deployed_version, short_hash(h.deployed));
  }
  if (!h.collection) return;
  if (ca->metadata_version) {
    keep_or_set(a, prev, &db::artifact_row::upstream_version, ca->metadata_version);
  } else if (auto lk = col.lock.find(*a.name + "::" + *a.type); lk != col.lock.end() && lk->second.resolved_version) {
    keep_or_set(a, prev, &db::artifact_row::upstream_version, lk->second.resolved_version);
  } else {
    keep_or_set(a, prev, &db::artifact_row::upstream_version, short_hash(h.collection));
  }
}

// Source, description, tags, aliases and metadata from the collection's entry.
void set_metadata(db::artifact_row& a, const db::artifact_row* prev, const collection_artifact* ca) {
  keep_or_set(a, prev, &db::artifact_row::source, ca && ca->upstream ? *ca->upstream : "local:" + *a.from_collection);
  if (!ca) return;
  keep_or_set(a, prev, &db::artifact_row::description, ca->metadata_description);
  auto& tags = ca->tags.empty() ? ca->metadata_tags : ca->tags;
  if (!tags.empty()) keep_or_set(a, prev, &db::artifact_row::tags, join(tags));
  if (!ca->metadata_aliases.empty()) keep_or_set(a, prev, &db::artifact_row::aliases, join(ca->metadata_aliases));
  keep_or_set(a, prev, &db::artifact_row::metadata_json, ca->metadata_json);
}

// One scan of one project: each deployment entry of each profile root becomes a row.
class project_reader {
 public:
  project_reader(const scan_context& ctx, const previous_rows& previous, project_scan& out)
      : ctx_(ctx), previous_(previous), out_(out), project_id_(out.id) {}

  std::optional<read_error> read_root(const fs::path& path, const std::string& root) {
    fs::path root_dir = path / root;
    fs::path deployed_file = root_dir / deployed_file_name;
    auto entries = read_entries(ctx_, deployed_file);
    if (!entries) return entries.error();
    const shared_text root_text = root;
    for (auto& e : **entries) {
      db::artifact_row a;
      a.id = out_.id + ":" + root + ":" + *e.artifact_type + ":" + *e.artifact_name;
      a.project_id = project_id_;
      a.profile_root = root_text;
      if (auto err = read_entry(e, root_dir, deployed_file, a)) return err;
      rows_[a.id] = std::move(a);
    }
    return std::nullopt;
  }

  std::vector<db::artifact_row> rows() {
    std::vector<db::artifact_row> out;
    out.reserve(rows_.size());
    for (auto& [id, row] : rows_) out.push_back(std::move(row));
    return out;
  }

 private:
  std::optional<read_error> read_entry(const deployed_entry& e, const fs::path& root_dir, const fs::path& deployed_file,
                                       db::artifact_row& a) {
    const db::artifact_row* prev = nullptr;
    if (auto it = previous_.find(a.id); it != previous_.end()) prev = it->second;
    keep_or_set(a, prev, &db::artifact_row::name, e.artifact_name);
    keep_or_set(a, prev, &db::artifact_row::type, e.artifact_type);
    keep_or_set(a, prev, &db::artifact_row::from_collection, e.from_collection.value_or("default"));
    keep_or_set(a, prev, &db::artifact_row::artifact_path,
                strip_slashes(e.artifact_path.value_or(default_artifact_path(*e.artifact_type, *e.artifact_name))));
    keep_or_set(a, prev, &db::artifact_row::deployed_at, e.deployed_at);
    if (!safe_relative_path(*a.artifact_path))
      return read_error{deployed_file.string(), e.line, "artifact_path '" + *a.artifact_path + "' leaves the profile root",
                        false};

    artifact_hashes h;
    h.deployed = (e.content_hash ? e.content_hash : e.collection_sha).optional();
    fs::path local_path = root_dir / *a.artifact_path;
    h.local = ctx_.hasher.hash(local_path, ctx_.cancel);

    auto& col = cols_[*a.from_collection];
    if (!col) col = ctx_.collections.get(*a.from_collection);
    out_.collections_used.insert(*a.from_collection);
    if (col->error) return col->error;
    const collection_artifact* ca = nullptr;
    if (auto it = col->by_key.find({*a.name, *a.type}); it != col->by_key.end()) ca = it->second;
    if (ca) {
      std::string rel = strip_slashes(ca->path.empty() ? default_artifact_path(*a.type, *a.name) : ca->path);
      if (safe_relative_path(rel)) h.collection = ctx_.memo.hash(col->dir / rel, ctx_.hasher, ctx_.cancel);
    }

    keep_or_set(a, prev, &db::artifact_row::deployed_hash, h.deployed);
    keep_or_set(a, prev, &db::artifact_row::local_hash, h.local);
    keep_or_set(a, prev, &db::artifact_row::collection_hash, h.collection);
    keep_or_set(a, prev, &db::artifact_row::drift, drift_of(h));
    a.local_modified = local_modified_of(h);
    a.is_outdated = is_outdated_of(h);
    set_versions(a, prev, h, local_path, *col, ca);
    set_metadata(a, prev, ca);
    return std::nullopt;
  }

  const scan_context& ctx_;
  const previous_rows& previous_;
  project_scan& out_;
  const shared_text project_id_;  // interned once, not once per row
  std::map<std::string, db::artifact_row> rows_;  // by id; a later entry of the same id wins
  std::unordered_map<std::string, std::shared_ptr<const collection_snapshot>> cols_;  // looked up once per scan
};
}  // namespace

namespace {
// What a scan that threw failed with, as the one error shape scans report: bad input on disk
// (a FIFO where a file was expected) and a cancelled attempt fail at once, as do unreadable
// (permissions) and impossible (a name too long) paths; other I/O errors may pass on a retry.
read_error error_of_throw(const fs::path& path, std::exception_ptr ep) {
  std::string where = path.string();
  try {
    std::rethrow_exception(ep);
  } catch (const unreadable_input& e) {
    return {where, 0, e.what(), false};
  } catch (const scan_cancelled& e) {
    return {where, 0, e.what(), false};
  } catch (const fs::filesystem_error& e) {
    int c = e.code().value();
    bool retryable = !(c == EACCES || c == EPERM || c == ENAMETOOLONG || c == ELOOP);
    std::string text = e.what();
    if (text.starts_with("filesystem error: ")) text.erase(0, 18);
    return {where, 0, text, retryable};
  } catch (const std::exception& e) {
    return {where, 0, e.what(), true};
  }
}

void read_project(const fs::path& path, const scan_context& ctx, const previous_rows& previous, project_scan& out) {
  if (ctx.before_read) ctx.before_read();
  out.profile_roots = profile_roots_of(path);
  if ((out.error = read_identity(path, out))) return;
  project_reader reader(ctx, previous, out);
  for (auto& root : out.profile_roots)
    if ((out.error = reader.read_root(path, root))) return;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {  // it went while it was read
    out.error = read_error{path.string(), 0, "project folder is gone", false};
    return;
  }
  out.artifacts = reader.rows();
}
}  // namespace

project_scan scan_project(const fs::path& path, const scan_context& ctx, const previous_rows& previous) {
  project_scan out;
  out.path = path;
  out.id = project_id_of(path);
  out.name = path.filename().string();
  try {
    read_project(path, ctx, previous, out);
  } catch (...) {
    out.error = error_of_throw(path, std::current_exception());
  }
  if (out.error) out.artifacts.clear();
  return out;
}

}  // namespace projcache::cache
