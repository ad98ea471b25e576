#pragma once
// What a change on disk means to the cache: which project(s) to refresh, which collection's
// users, or whether to rescan for projects. Pure policy: no system calls and no cache access
// (the one question about a project's artifacts is asked through `relevance_fn`), so it is
// unit-tested with synthetic paths. Built anew on every resync, immutable after.
#include <compare>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "platform/watch_backend.hpp"

namespace projcache::cache {

// What the debouncer coalesces: one project, one collection's users ("" = every project), or
// the rescan for projects that came or went.
struct debounce_key {
  enum class kind : unsigned char { rescan, collection, project };
  kind k;
  std::string id;
  static debounce_key rescan() { return {kind::rescan, {}}; }
  static debounce_key collection(std::string name) { return {kind::collection, std::move(name)}; }
  static debounce_key project(std::string id) { return {kind::project, std::move(id)}; }
  auto operator<=>(const debounce_key&) const = default;
};

// Where things are, as of the last resync. Paths are absolute, without a trailing '/'.
struct watch_world {
  std::string collections;                           // <home>/collections
  std::vector<std::string> search_roots;             // those that exist
  std::vector<std::string> missing_roots;            // search roots and collections not there yet
  std::map<std::string, std::string> profile_roots;  // "<project>/<root>" -> project id
  int discovery_depth = 3;
};

struct route {
  std::vector<debounce_key> keys;
  bool resync = false;  // the set of folders to watch changed (a missing root appeared)
  bool operator==(const route&) const = default;
};

class change_router {
 public:
  // Whether `rel` (relative to the profile root `root_path` of project `id`) can change a row.
  using relevance_fn = std::function<bool(const std::string& id, const std::string& root_path, const std::string& rel)>;

  change_router(watch_world w, relevance_fn relevant);

  route route_change(const platform::fs_change& c) const;
  // Whether a backend should watch the folder `name` found in `parent` below `root`.
  bool enter(const platform::watch_root& root, const std::string& parent, std::string_view name) const;
  // Editor and tool droppings that never change a derived row (SkillMeat's watcher rules).
  static bool ignored(const std::string& path);
  const watch_world& world() const { return world_; }

 private:
  bool is_search_root(const std::string& path) const;
  bool leads_to_missing_root(const std::string& dir) const;
  void route_in_profile_root(const platform::fs_change& c, const std::string& root, const std::string& id,
                             route& out) const;

  watch_world world_;
  relevance_fn relevant_;
};

}  // namespace projcache::cache
