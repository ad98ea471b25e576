#include "cache/watch_router.hpp"

#include <algorithm>

#include "cache/discovery.hpp"
#include "common/path_prefix.hpp"

namespace projcache::cache {

using platform::change_kind;

namespace {

std::string_view base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string_view(path) : std::string_view(path).substr(slash + 1);
}

bool ignored_name(std::string_view name) {
  if (name.empty()) return false;
  static constexpr std::string_view suffixes[] = {"~", ".tmp", ".swp", ".swo", ".swx", ".swpx", ".bak", ".part"};
  for (auto s : suffixes)
    if (name.ends_with(s)) return true;
  return name.starts_with(".#") || name == "4913" || name == ".DS_Store" || name == ".git" || name == "node_modules" ||
         name == "__pycache__";
}
}  // namespace

change_router::change_router(watch_world w, relevance_fn relevant) : world_(std::move(w)), relevant_(std::move(relevant)) {}

bool change_router::ignored(const std::string& path) {
  return ignored_name(base_name(path)) || path.find("/.git/") != std::string::npos ||
         path.find("/node_modules/") != std::string::npos || path.find("/__pycache__/") != std::string::npos;
}

bool change_router::is_search_root(const std::string& path) const {
  return std::find(world_.search_roots.begin(), world_.search_roots.end(), path) != world_.search_roots.end();
}

bool change_router::leads_to_missing_root(const std::string& dir) const {
  return std::any_of(world_.missing_roots.begin(), world_.missing_roots.end(),
                     [&](const std::string& root) { return path_at_or_under(root, dir); });
}

bool change_router::enter(const platform::watch_root& root, const std::string& parent, std::string_view name) const {
  if (ignored_name(name)) return false;
  if (!is_search_root(root.path)) return true;
  // A search tree is watched for projects coming and going: not inside node_modules and the
  // like, and not inside a profile root (watched as a root of its own, at full depth).
  std::string n(name);
  return !is_pruned_folder(n) && !world_.profile_roots.count(parent + "/" + n);
}

route change_router::route_change(const platform::fs_change& c) const {
  route out;
  const std::string& full = c.path;
  if (ignored(full)) return out;
  bool appeared = c.is_dir && c.kind == change_kind::created;
  if (appeared && leads_to_missing_root(full)) {
    // A root that did not exist is (or leads to) this folder: watch it for real, look for its
    // projects, and when it is the collections folder every project's drift may change.
    out.resync = true;
    out.keys.push_back(debounce_key::rescan());
    if (path_at_or_under(world_.collections, full)) out.keys.push_back(debounce_key::collection(""));
    return out;
  }
  if (path_at_or_under(full, world_.collections)) {
    std::string rest = full.size() > world_.collections.size() ? full.substr(world_.collections.size() + 1) : "";
    out.keys.push_back(debounce_key::collection(rest.substr(0, rest.find('/'))));
    return out;
  }
  // The profile root holding this path, if any: the nearest ancestor that is one.
  for (std::string dir = full;;) {
    if (auto pr = world_.profile_roots.find(dir); pr != world_.profile_roots.end()) {
      route_in_profile_root(c, dir, pr->second, out);
      return out;
    }
    auto slash = dir.rfind('/');
    if (slash == std::string::npos || slash == 0) break;
    dir.resize(slash);
  }
  // In a search tree: a folder or a deployment file came or went (a project may have).
  bool in_search_tree = std::any_of(world_.search_roots.begin(), world_.search_roots.end(),
                                    [&](const std::string& r) { return path_at_or_under(full, r); });
  if (in_search_tree && ((c.is_dir && c.kind != change_kind::modified) || base_name(full) == deployed_file_name))
    out.keys.push_back(debounce_key::rescan());
  return out;
}

void change_router::route_in_profile_root(const platform::fs_change& c, const std::string& root, const std::string& id,
                                          route& out) const {
  const std::string& full = c.path;
  std::string rel = root.size() < full.size() ? full.substr(root.size() + 1) : "";
  if (rel.empty() && c.kind == change_kind::removed) {  // the profile root itself went
    out.keys.push_back(debounce_key::rescan());
    return;
  }
  // The deployment file came or went: the project may have started or stopped being one.
  if (rel == deployed_file_name && c.kind != change_kind::modified) out.keys.push_back(debounce_key::rescan());
  if (rel.empty() || rel == deployed_file_name || rel == project_file_name || relevant_(id, root, rel))
    out.keys.push_back(debounce_key::project(id));
}

}  // namespace projcache::cache
