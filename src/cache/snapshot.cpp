#include "cache/snapshot.hpp"

#include <algorithm>
#include <deque>
#include <unordered_map>

#include "common/ascii.hpp"
#include "common/parallel.hpp"

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

bool ref_less(artifact_ref a, artifact_ref b) { return compare_name_id(*a->name, a->id, *b->name, b->id) < 0; }

// Lower-case artifact names, interned: there are few distinct names and they only grow.
class name_interner {
 public:
  std::uint32_t id_of(const std::string& name) {
    std::string lower = ascii_lower(name);
    std::lock_guard lk(mu_);
    auto [it, added] = ids_.try_emplace(lower, static_cast<std::uint32_t>(names_.size()));
    if (added) names_.push_back(lower);
    return it->second;
  }
  std::string name(std::uint32_t id) {
    std::lock_guard lk(mu_);
    return names_[id];
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::uint32_t> ids_;
  std::deque<std::string> names_;
};

name_interner& interner() {
  static name_interner n;
  return n;
}

// Groups and outdated positions from the contiguous per-item arrays, in one pass.
std::shared_ptr<const artifact_index> finish_index(std::shared_ptr<artifact_index> idx) {
  const auto& ids = idx->name_ids;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i == 0 || ids[i] != ids[i - 1]) idx->groups.push_back({interner().name(ids[i]), i, i});
    idx->groups.back().end = i + 1;
    if (idx->outdated_flags[i]) idx->outdated.push_back(i);
  }
  return idx;
}

void append(artifact_index& idx, artifact_ref a) {
  idx.items.push_back(a);
  idx.name_ids.push_back(interner().id_of(*a->name));
  idx.outdated_flags.push_back(a->is_outdated ? 1 : 0);
}

// Each artifact with its lower name's interned id and that name's rank among the distinct
// names: a thousand projects share a few dozen names, so the sort compares integers and looks
// at ids only among equal names. The order is ref_less's: (lower name, id).
struct keyed_ref {
  std::uint32_t rank, name_id;
  artifact_ref a;
  bool operator<(const keyed_ref& o) const { return rank != o.rank ? rank < o.rank : a->id < o.a->id; }
};

std::vector<keyed_ref> keyed_items(const std::vector<project_ptr>& projects) {
  std::vector<keyed_ref> items;
  std::size_t total = 0;
  for (auto& p : projects) total += p->artifacts.size();
  items.reserve(total);
  std::unordered_map<const std::string*, std::uint32_t> id_of_text;  // names are interned texts
  std::unordered_map<std::uint32_t, std::string> distinct;
  for (auto& p : projects)
    for (auto& a : p->artifacts) {
      auto [it, added] = id_of_text.try_emplace(&*a->name, 0);
      if (added) {
        it->second = interner().id_of(*a->name);
        distinct.try_emplace(it->second, ascii_lower(*a->name));
      }
      items.push_back({0, it->second, a.get()});
    }
  std::vector<std::pair<const std::string*, std::uint32_t>> names;
  for (auto& [id, lower] : distinct) names.emplace_back(&lower, id);
  std::sort(names.begin(), names.end(), [](auto& x, auto& y) { return *x.first < *y.first; });
  std::unordered_map<std::uint32_t, std::uint32_t> rank_of;
  for (std::uint32_t r = 0; r < names.size(); ++r) rank_of[names[r].second] = r;
  for (auto& k : items) k.rank = rank_of[k.name_id];
  return items;
}

std::shared_ptr<const artifact_index> index_of(const std::vector<project_ptr>& projects) {
  auto items = keyed_items(projects);
  // In two halves on two threads, then merged: this is on the way to a start's ready line.
  std::size_t parts = items.size() < 4096 || load_parts() < 2 ? 1 : 2, half = items.size() / 2;
  run_in_parallel(parts, [&](std::size_t i) {
    auto from = items.begin() + static_cast<std::ptrdiff_t>(i == 0 || parts == 1 ? 0 : half);
    auto to = parts == 1 || i == 1 ? items.end() : items.begin() + static_cast<std::ptrdiff_t>(half);
    std::sort(from, to);
  });
  if (parts == 2) std::inplace_merge(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(half), items.end());
  auto idx = std::make_shared<artifact_index>();
  idx->items.reserve(items.size());
  idx->name_ids.reserve(items.size());
  idx->outdated_flags.reserve(items.size());
  for (auto& k : items) {
    idx->items.push_back(k.a);
    idx->name_ids.push_back(k.name_id);
    idx->outdated_flags.push_back(k.a->is_outdated ? 1 : 0);
  }
  return finish_index(std::move(idx));
}
}  // namespace

bool artifact_less(const artifact_ptr& a, const artifact_ptr& b) {
  return compare_name_id(*a->name, a->id, *b->name, b->id) < 0;
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
    e->profile_roots.insert(*a->profile_root);
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

std::int64_t project_times::fetched_before(micros cutoff) const {
  return never_fetched +
         static_cast<std::int64_t>(std::lower_bound(fetched_sorted.begin(), fetched_sorted.end(), cutoff) -
                                   fetched_sorted.begin());
}

const project_times& snapshot::times() const {
  std::call_once(times_once_, [this] {
    auto& t = times_;
    t.fetched_sorted.reserve(projects.size());
    for (auto& [_, p] : projects) {
      micros c = p->row.created_at;
      if (!t.oldest_created || c < *t.oldest_created) t.oldest_created = c;
      if (!t.newest_created || c > *t.newest_created) t.newest_created = c;
      if (p->row.last_fetched) {
        t.fetched_sorted.push_back(*p->row.last_fetched);
      } else {
        ++t.never_fetched;
      }
    }
    std::sort(t.fetched_sorted.begin(), t.fetched_sorted.end());
    if (!t.fetched_sorted.empty()) t.last_fetched = t.fetched_sorted.back();
  });
  return times_;
}

namespace {
// The sorted project list after `changes`: when every change keeps its project's name (a
// refresh), the base list with entries swapped in place; otherwise sorted afresh.
std::vector<project_ptr> sorted_after(const snapshot& base, const snapshot& next, const project_changes& changes) {
  std::vector<std::pair<std::size_t, project_ptr>> swaps;
  for (auto& [id, entry] : changes) {
    auto it = base.projects.find(id);
    if (!entry || it == base.projects.end() || it->second->row.name != entry->row.name) {
      std::vector<project_ptr> all;
      all.reserve(next.projects.size());
      for (auto& [_, p] : next.projects) all.push_back(p);
      std::sort(all.begin(), all.end(), project_less);
      return all;
    }
    auto pos = std::lower_bound(base.projects_sorted.begin(), base.projects_sorted.end(), it->second, project_less);
    swaps.emplace_back(static_cast<std::size_t>(pos - base.projects_sorted.begin()), entry);
  }
  auto sorted = base.projects_sorted;
  for (auto& [pos, entry] : swaps) sorted[pos] = entry;
  return sorted;
}

// The artifact index after `changes`: the base items minus the changed projects' old rows,
// plus their new rows, in one merge. Both lists are sorted the way the index is, so an old row
// is recognized by address as the walk reaches it, without hashing.
std::shared_ptr<const artifact_index> index_after(const snapshot& base, const project_changes& changes) {
  std::vector<artifact_ref> gone, add;
  for (auto& [id, entry] : changes) {
    auto it = base.projects.find(id);
    const project_entry* old = it == base.projects.end() ? nullptr : it->second.get();
    if (old && entry && old->artifacts == entry->artifacts) continue;
    if (old)
      for (auto& a : old->artifacts) gone.push_back(a.get());
    if (entry)
      for (auto& a : entry->artifacts) add.push_back(a.get());
  }
  if (gone.empty() && add.empty()) return base.artifacts;
  std::sort(gone.begin(), gone.end(), ref_less);
  std::sort(add.begin(), add.end(), ref_less);
  const auto& b = *base.artifacts;
  auto merged = std::make_shared<artifact_index>();
  std::size_t cap = b.items.size() + add.size();
  merged->items.reserve(cap);
  merged->name_ids.reserve(cap);
  merged->outdated_flags.reserve(cap);
  std::size_t i = 0, g = 0;
  // Copies the base items before position `end`: plain copies, no row is compared (a new row's
  // place is found by binary search, so a change costs O(log N) comparisons, not O(N)).
  auto copy_until = [&](std::size_t end) {
    for (; i < end; ++i) {
      if (g < gone.size() && b.items[i] == gone[g]) {
        ++g;
        continue;
      }
      merged->items.push_back(b.items[i]);
      merged->name_ids.push_back(b.name_ids[i]);
      merged->outdated_flags.push_back(b.outdated_flags[i]);
    }
  };
  for (auto a : add) {
    auto pos = std::upper_bound(b.items.begin() + static_cast<std::ptrdiff_t>(i), b.items.end(), a, ref_less);
    copy_until(static_cast<std::size_t>(pos - b.items.begin()));
    append(*merged, a);
  }
  copy_until(b.items.size());
  return finish_index(std::move(merged));
}
}  // namespace

snapshot_ptr with_projects(const snapshot& base, const project_changes& changes) {
  auto s = std::make_shared<snapshot>();
  s->generation = base.generation + 1;
  s->projects = base.projects;
  s->outdated_artifacts = base.outdated_artifacts;
  for (auto& [id, entry] : changes) {
    if (auto it = s->projects.find(id); it != s->projects.end()) s->outdated_artifacts -= it->second->outdated;
    if (entry) {
      s->projects[id] = entry;
      s->outdated_artifacts += entry->outdated;
    } else {
      s->projects.erase(id);
    }
  }
  s->projects_sorted = sorted_after(base, *s, changes);
  s->artifacts = index_after(base, changes);
  return s;
}

}  // namespace projcache::cache
