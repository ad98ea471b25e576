#include "cache/snapshot.hpp"

#include <algorithm>

#include "cache/util.hpp"

namespace projcache::cache {

namespace {
template <class T>
int compare_name_id(const T& an, const T& ai, const T& bn, const T& bi) {
  // Case-insensitive by name, then id: strcasecmp-like on ASCII without allocating.
  std::size_t n = std::min(an.size(), bn.size());
  for (std::size_t i = 0; i < n; ++i) {
    char x = an[i], y = bn[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return static_cast<unsigned char>(x) < static_cast<unsigned char>(y) ? -1 : 1;
  }
  if (an.size() != bn.size()) return an.size() < bn.size() ? -1 : 1;
  return ai.compare(bi);
}

bool same_name_ignoring_case(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Groups and outdated positions of a sorted item list, in one pass.
std::shared_ptr<const artifact_index> finish_index(std::vector<artifact_ptr> items) {
  auto idx = std::make_shared<artifact_index>();
  idx->items = std::move(items);
  const auto& v = idx->items;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i == 0 || !same_name_ignoring_case(v[i]->name, v[i - 1]->name))
      idx->groups.push_back({ascii_lower(v[i]->name), i, i});
    idx->groups.back().end = i + 1;
    if (v[i]->is_outdated) idx->outdated.push_back(i);
  }
  return idx;
}

std::shared_ptr<const artifact_index> index_of(const std::vector<project_ptr>& projects) {
  std::vector<artifact_ptr> items;
  std::size_t total = 0;
  for (auto& p : projects) total += p->artifacts.size();
  items.reserve(total);
  for (auto& p : projects) items.insert(items.end(), p->artifacts.begin(), p->artifacts.end());
  std::sort(items.begin(), items.end(), artifact_less);
  return finish_index(std::move(items));
}
}  // namespace

bool artifact_less(const artifact_ptr& a, const artifact_ptr& b) {
  return compare_name_id(a->name, a->id, b->name, b->id) < 0;
}

bool project_less(const project_ptr& a, const project_ptr& b) {
  return compare_name_id(a->row.name, a->row.id, b->row.name, b->row.id) < 0;
}

project_ptr make_project_entry(db::project_row row, std::vector<artifact_ptr> artifacts) {
  auto e = std::make_shared<project_entry>();
  e->row = std::move(row);
  std::sort(artifacts.begin(), artifacts.end(), artifact_less);
  e->artifacts = std::move(artifacts);
  for (auto& a : e->artifacts) {
    if (a->from_collection) e->collections_used.insert(*a->from_collection);
    e->profile_roots.insert(a->profile_root);
    if (a->is_outdated) ++e->outdated;
    for (std::size_t i = 0; i < drift_names.size(); ++i)
      if (a->drift == drift_names[i]) ++e->drift_counts[i];
  }
  return e;
}

snapshot_ptr build_snapshot(std::vector<project_ptr> projects, std::uint64_t generation) {
  auto s = std::make_shared<snapshot>();
  s->generation = generation;
  for (auto& p : projects) {
    s->projects[p->row.id] = p;
    s->outdated_artifacts += p->outdated;
  }
  std::sort(projects.begin(), projects.end(), project_less);
  s->artifacts = index_of(projects);
  s->projects_sorted = std::move(projects);
  return s;
}

snapshot_ptr with_project(const snapshot& base, const std::string& id, project_ptr entry) {
  auto s = std::make_shared<snapshot>();
  s->generation = base.generation + 1;
  s->projects = base.projects;
  project_ptr old;
  if (auto it = s->projects.find(id); it != s->projects.end()) old = it->second;
  if (entry)
    s->projects[id] = entry;
  else
    s->projects.erase(id);
  s->outdated_artifacts = base.outdated_artifacts - (old ? old->outdated : 0) + (entry ? entry->outdated : 0);

  bool same_name = old && entry && old->row.name == entry->row.name;
  if (same_name) {
    s->projects_sorted = base.projects_sorted;
    for (auto& p : s->projects_sorted)
      if (p->row.id == id) p = entry;
  } else {
    s->projects_sorted.reserve(s->projects.size());
    for (auto& [_, p] : s->projects) s->projects_sorted.push_back(p);
    std::sort(s->projects_sorted.begin(), s->projects_sorted.end(), project_less);
  }

  bool same_artifacts = old && entry && old->artifacts == entry->artifacts;
  if (same_artifacts || (!old && entry && entry->artifacts.empty()) || (old && !entry && old->artifacts.empty())) {
    s->artifacts = base.artifacts;
  } else {
    // Merge: drop the project's old rows, merge its new (sorted) rows in. O(total), pointers only.
    const auto& items = base.artifacts->items;
    const std::vector<artifact_ptr> none;
    const auto& add = entry ? entry->artifacts : none;
    std::vector<artifact_ptr> merged;
    merged.reserve(items.size() + add.size());
    std::size_t j = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (items[i]->project_id == id) continue;
      while (j < add.size() && artifact_less(add[j], items[i])) merged.push_back(add[j++]);
      merged.push_back(items[i]);
    }
    for (; j < add.size(); ++j) merged.push_back(add[j]);
    s->artifacts = finish_index(std::move(merged));
  }
  return s;
}

}  // namespace projcache::cache
