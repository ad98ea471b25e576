#pragma once
// The read model: an immutable picture of every cached project and artifact, replaced whole
// (sharing unchanged parts) after each write, so reads never lock against a refresh.
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "db/types.hpp"

namespace projcache::cache {

using artifact_ptr = std::shared_ptr<const db::artifact_row>;

inline constexpr std::array<const char*, 6> drift_names{"synced",   "outdated", "modified",
                                                        "conflict", "removed",  "missing"};

struct project_entry {
  db::project_row row;
  std::vector<artifact_ptr> artifacts;  // by (lower name, id)
  std::set<std::string> collections_used;  // from_collection of its artifacts
  std::set<std::string> profile_roots;     // profile_root of its artifacts
  std::int64_t outdated = 0;
  std::array<std::int64_t, 6> drift_counts{};  // in drift_names order
};
using project_ptr = std::shared_ptr<const project_entry>;

// A run of artifacts whose names are equal but for case: contiguous in the sorted index.
struct name_group {
  std::string lower;
  std::size_t begin = 0, end = 0;
};

// Every artifact of every project, by (lower name, id). Names repeat across projects (the same
// collection deployed everywhere), so search looks at each distinct name once, through groups.
// Plain pointers: the snapshot's project entries own the rows, and a merge after a change then
// costs no reference counting (hand them out as artifact_ptr aliasing the snapshot).
using artifact_ref = const db::artifact_row*;
struct artifact_index {
  std::vector<artifact_ref> items;
  // Per item, kept contiguous so that rebuilding after a change never chases the row pointers.
  std::vector<std::uint32_t> name_ids;  // interned lower-case name
  std::vector<std::uint8_t> outdated_flags;
  std::vector<name_group> groups;
  std::vector<std::size_t> outdated;  // positions of is_outdated items, in order
};

// Per-project times the status route summarizes.
struct project_times {
  std::optional<micros> oldest_created, newest_created, last_fetched;
  std::vector<micros> fetched_sorted;  // every project's last_fetched, ascending
  std::int64_t never_fetched = 0;
  // Projects whose last fetch is older than `cutoff` (or that were never fetched).
  std::int64_t fetched_before(micros cutoff) const;
};

struct snapshot {
  snapshot() = default;
  // A copy is a new snapshot to edit: its summary is computed afresh.
  snapshot(const snapshot& o)
      : generation(o.generation),
        projects(o.projects),
        projects_sorted(o.projects_sorted),
        artifacts(o.artifacts),
        outdated_artifacts(o.outdated_artifacts) {}
  snapshot& operator=(const snapshot&) = delete;

  std::uint64_t generation = 0;
  std::map<std::string, project_ptr> projects;    // by id
  std::vector<project_ptr> projects_sorted;       // by (lower name, id)
  std::shared_ptr<const artifact_index> artifacts = std::make_shared<artifact_index>();
  std::int64_t outdated_artifacts = 0;
  // Computed by the first reader that asks, then shared: /cache/status answers in O(log n)
  // instead of walking every project on every request, and writes pay nothing for it.
  const project_times& times() const;

 private:
  mutable std::once_flag times_once_;
  mutable project_times times_;
};
using snapshot_ptr = std::shared_ptr<const snapshot>;

// Orders artifacts and projects the way every list is ordered.
bool artifact_less(const artifact_ptr& a, const artifact_ptr& b);
bool project_less(const project_ptr& a, const project_ptr& b);

// Builds an entry: sorts its artifacts, counts their drift, collects collections and roots.
project_ptr make_project_entry(db::project_row row, std::vector<artifact_ptr> artifacts);

// Changes to publish together: project id -> its new entry, or null when it leaves.
using project_changes = std::map<std::string, project_ptr>;

// A new snapshot with every change put in, built in one pass over the base: publishing a batch
// of k changes costs O(N + k log N), not k times O(N), so a refresh of N projects stays linear.
// The artifact index is merged only when some project's artifacts changed.
snapshot_ptr with_projects(const snapshot& base, const project_changes& changes);
snapshot_ptr build_snapshot(std::vector<project_ptr> projects, std::uint64_t generation);

class snapshot_holder {
 public:
  snapshot_ptr get() const {
    std::lock_guard lk(mu_);
    return current_;
  }
  void set(snapshot_ptr s) {
    std::lock_guard lk(mu_);
    current_ = std::move(s);
  }

 private:
  mutable std::mutex mu_;
  snapshot_ptr current_ = std::make_shared<snapshot>();
};

}  // namespace projcache::cache
