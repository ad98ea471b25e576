#include "cache/scanner.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "cache/derive.hpp"
#include "cache/stat_stamp.hpp"
#include "cache/discovery.hpp"
#include "cache/front_matter.hpp"
#include "cache/util.hpp"

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

project_scan scan_project(const fs::path& path, const scan_context& ctx,
                          const previous_rows& previous) {
  project_scan out;
  out.path = path;
  out.id = project_id_of(path);
  out.name = path.filename().string();
  out.profile_roots = profile_roots_of(path);

  for (auto& root : out.profile_roots) {
    fs::path root_dir = path / root;
    std::error_code ec;
    if (fs::is_regular_file(root_dir / project_file_name, ec)) {
      auto pf = read_project_file(root_dir / project_file_name);
      if (!pf) {
        out.error = pf.error();
        return out;
      }
      if (pf->name && !pf->name->empty() && out.name == path.filename().string()) {
        out.name = *pf->name;
        out.description = pf->description;
      }
    }
  }

  std::map<std::string, db::artifact_row> rows;  // by id; a later entry of the same id wins
  std::unordered_map<std::string, std::shared_ptr<const collection_snapshot>> cols;  // looked up once per scan
  const shared_text project_id = out.id;  // interned once, not once per row
  for (auto& root : out.profile_roots) {
    const shared_text root_text = root;
    fs::path root_dir = path / root;
    fs::path deployed_file = root_dir / deployed_file_name;
    auto entries = read_entries(ctx, deployed_file);
    if (!entries) {
      out.error = entries.error();
      return out;
    }
    for (auto& e : **entries) {
      db::artifact_row a;
      a.id = out.id + ":" + root + ":" + e.artifact_type + ":" + e.artifact_name;
      const db::artifact_row* prev = nullptr;
      if (auto it = previous.find(a.id); it != previous.end()) prev = it->second;
      // A text equal to the previous row's is shared from it: on a refresh that finds nothing
      // changed (most of them) no text is interned again.
      auto set = [&](shared_text db::artifact_row::*field, const auto& value) {
        if (prev && prev->*field == value) a.*field = prev->*field;
        else a.*field = value;
      };
      a.project_id = project_id;
      a.profile_root = root_text;
      set(&db::artifact_row::name, e.artifact_name);
      set(&db::artifact_row::type, e.artifact_type);
      set(&db::artifact_row::from_collection, e.from_collection.value_or("default"));
      set(&db::artifact_row::artifact_path,
          strip_slashes(e.artifact_path.value_or(default_artifact_path(e.artifact_type, e.artifact_name))));
      set(&db::artifact_row::deployed_at, e.deployed_at);
      if (!safe_relative_path(*a.artifact_path)) {
        out.error = read_error{deployed_file.string(), e.line,
                               "artifact_path '" + *a.artifact_path + "' leaves the profile root", false};
        return out;
      }

      artifact_hashes h;
      h.deployed = e.content_hash ? e.content_hash : e.collection_sha;
      fs::path local_path = root_dir / *a.artifact_path;
      h.local = ctx.hasher.hash(local_path, ctx.cancel);

      auto& col = cols[*a.from_collection];
      if (!col) col = ctx.collections.get(*a.from_collection);
      out.collections_used.insert(*a.from_collection);
      if (col->error) {
        out.error = col->error;
        return out;
      }
      const collection_artifact* ca = nullptr;
      if (auto it = col->by_key.find({*a.name, *a.type}); it != col->by_key.end()) ca = it->second;
      if (ca) {
        std::string rel = strip_slashes(ca->path.empty() ? default_artifact_path(*a.type, *a.name) : ca->path);
        if (safe_relative_path(rel)) h.collection = ctx.memo.hash(col->dir / rel, ctx.hasher, ctx.cancel);
      }

      set(&db::artifact_row::deployed_hash, h.deployed);
      set(&db::artifact_row::local_hash, h.local);
      set(&db::artifact_row::collection_hash, h.collection);
      set(&db::artifact_row::drift, drift_of(h));
      a.local_modified = local_modified_of(h);
      a.is_outdated = is_outdated_of(h);

      if (h.local) {
        if (prev && prev->local_hash == h.local && prev->deployed_hash == h.deployed) {
          a.deployed_version = prev->deployed_version;  // same bytes, same version
        } else {
          a.deployed_version = artifact_version(local_path);
          if (!a.deployed_version) a.deployed_version = short_hash(h.deployed);
        }
      } else {
        set(&db::artifact_row::deployed_version, short_hash(h.deployed));
      }

      set(&db::artifact_row::source, ca && ca->upstream ? *ca->upstream : "local:" + *a.from_collection);
      if (h.collection) {
        if (ca->metadata_version) {
          set(&db::artifact_row::upstream_version, ca->metadata_version);
        } else if (auto lk = col->lock.find(*a.name + "::" + *a.type);
                   lk != col->lock.end() && lk->second.resolved_version) {
          set(&db::artifact_row::upstream_version, lk->second.resolved_version);
        } else {
          set(&db::artifact_row::upstream_version, short_hash(h.collection));
        }
      }
      if (ca) {
        set(&db::artifact_row::description, ca->metadata_description);
        auto& tags = ca->tags.empty() ? ca->metadata_tags : ca->tags;
        if (!tags.empty()) set(&db::artifact_row::tags, join(tags));
        if (!ca->metadata_aliases.empty()) set(&db::artifact_row::aliases, join(ca->metadata_aliases));
        set(&db::artifact_row::metadata_json, ca->metadata_json);
      }
      rows[a.id] = std::move(a);
    }
  }
  out.artifacts.reserve(rows.size());
  for (auto& [id, row] : rows) out.artifacts.push_back(std::move(row));
  return out;
}

}  // namespace projcache::cache
