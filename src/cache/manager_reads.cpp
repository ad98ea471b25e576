// The read side of the manager: every answer comes from the immutable snapshot.
#include <sys/stat.h>

#include <algorithm>

#include "cache/manager.hpp"
#include "cache/util.hpp"
#include "cache/version_diff.hpp"

namespace projcache::cache {

namespace {
template <class T>
page<T> paginate(std::vector<T> all, std::int64_t skip, std::int64_t limit, snapshot_ptr snap) {
  page<T> out;
  out.total = static_cast<std::int64_t>(all.size());
  auto b = std::min<std::size_t>(static_cast<std::size_t>(std::max<std::int64_t>(skip, 0)), all.size());
  auto e = limit < 0 ? all.size() : std::min(all.size(), b + static_cast<std::size_t>(limit));
  out.items.assign(std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(b)),
                   std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(e)));
  out.snap = std::move(snap);
  return out;
}

bool matches(const db::artifact_row& a, const std::optional<std::string>& project_id,
             const std::optional<std::string>& type) {
  return (!project_id || a.project_id == *project_id) && (!type || a.type == *type);
}

std::string project_name_of(const snapshot& s, const std::string& id) {
  auto it = s.projects.find(id);
  return it == s.projects.end() ? "Unknown" : it->second->row.name;
}
}  // namespace

bool manager::is_stale(const project_entry& p, micros now) const {
  return !p.row.last_fetched || *p.row.last_fetched < now - settings_.ttl_minutes * 60 * 1000000;
}

void manager::note_project_read(const std::optional<std::string>& project_id) const {
  if (!project_id) {
    hits_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto s = snap_.get();
  auto it = s->projects.find(*project_id);
  if (it != s->projects.end() && !is_stale(*it->second, now_micros())) {
    hits_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  if (it != s->projects.end() && on_stale_read_) on_stale_read_(*project_id);
}

status_view manager::status() const {
  auto s = snap_.get();
  status_view v;
  v.generation = s->generation;
  micros now = now_micros();
  v.total_projects = static_cast<std::int64_t>(s->projects.size());
  v.total_artifacts = static_cast<std::int64_t>(s->artifacts->items.size());
  v.outdated_artifacts = s->outdated_artifacts;
  for (auto& [_, p] : s->projects) {
    if (is_stale(*p, now)) ++v.stale_projects;
    if (!v.oldest_entry || p->row.created_at < *v.oldest_entry) v.oldest_entry = p->row.created_at;
    if (!v.newest_entry || p->row.created_at > *v.newest_entry) v.newest_entry = p->row.created_at;
    if (p->row.last_fetched && (!v.last_refresh || *p->row.last_fetched > *v.last_refresh))
      v.last_refresh = p->row.last_fetched;
  }
  struct stat st;
  if (::stat(settings_.db_path.c_str(), &st) == 0) v.cache_size_bytes = st.st_size;
  v.hits = hits_.load();
  v.misses = misses_.load();
  if (v.hits + v.misses > 0) v.hit_rate = static_cast<double>(v.hits) / static_cast<double>(v.hits + v.misses);
  return v;
}

page<project_ptr> manager::list_projects(const project_query& q) const {
  auto s = snap_.get();
  micros now = now_micros();
  std::vector<project_ptr> all;
  all.reserve(s->projects_sorted.size());
  for (auto& p : s->projects_sorted) {
    if (q.status) {
      bool keep = *q.status == "stale" ? is_stale(*p, now) : p->row.status == *q.status;
      if (!keep) continue;
    }
    all.push_back(p);
  }
  return paginate(std::move(all), q.skip, q.limit, s);
}

page<artifact_ptr> manager::list_artifacts(const artifact_query& q) const {
  auto s = snap_.get();
  std::vector<artifact_ptr> all;
  auto keep = [&](const artifact_ptr& a) {
    return matches(*a, q.project_id, q.type) && (!q.is_outdated || a->is_outdated == *q.is_outdated);
  };
  if (q.project_id) {  // the project's own sorted list: no scan of everything
    if (auto it = s->projects.find(*q.project_id); it != s->projects.end())
      for (auto& a : it->second->artifacts)
        if (keep(a)) all.push_back(a);
  } else {
    for (auto& a : s->artifacts->items)
      if (keep(a)) all.push_back(a);
  }
  return paginate(std::move(all), q.skip, q.limit, s);
}

page<stale_item> manager::stale_artifacts(const stale_query& q) const {
  auto s = snap_.get();
  std::vector<stale_item> all;
  for (auto& a : s->artifacts->items) {
    if (!a->is_outdated || !matches(*a, q.project_id, q.type)) continue;
    all.push_back({a, project_name_of(*s, a->project_id),
                   version_difference(a->deployed_version, a->upstream_version)});
  }
  // The base order is (lower name, id); a stable sort on the key keeps it among equals.
  if (q.sort_by == "type") {
    std::stable_sort(all.begin(), all.end(), [](auto& x, auto& y) { return x.artifact->type < y.artifact->type; });
  } else if (q.sort_by == "project") {
    std::stable_sort(all.begin(), all.end(), [](auto& x, auto& y) {
      return ascii_lower(x.project_name) < ascii_lower(y.project_name);
    });
  } else if (q.sort_by == "version_diff") {
    std::stable_sort(all.begin(), all.end(), [](auto& x, auto& y) {
      bool xn = !x.version_difference, yn = !y.version_difference;
      if (xn != yn) return !xn;  // nulls last
      return !xn && *x.version_difference < *y.version_difference;
    });
  }
  if (q.descending) std::reverse(all.begin(), all.end());
  return paginate(std::move(all), q.skip, q.limit, s);
}

page<search_item> manager::search(const search_query& q) const {
  auto s = snap_.get();
  std::string needle = ascii_lower(q.query);
  std::vector<search_item> all;
  const auto& items = s->artifacts->items;
  const auto& lows = s->artifacts->lower_names;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (lows[i].find(needle) == std::string::npos || !matches(*items[i], q.project_id, q.type)) continue;
    double score = lows[i] == needle ? 100.0 : (lows[i].starts_with(needle) ? 80.0 : 60.0);
    all.push_back({items[i], {}, score});
  }
  if (q.sort_by == "relevance") {
    std::stable_sort(all.begin(), all.end(), [](auto& x, auto& y) { return x.score > y.score; });
  } else if (q.sort_by == "type") {
    std::stable_sort(all.begin(), all.end(), [](auto& x, auto& y) { return x.artifact->type < y.artifact->type; });
  } else if (q.sort_by == "updated") {
    std::stable_sort(all.begin(), all.end(), [](auto& x, auto& y) {
      return x.artifact->updated_at > y.artifact->updated_at;
    });
  }
  auto out = paginate(std::move(all), q.skip, q.limit, s);
  for (auto& it : out.items) it.project_name = project_name_of(*s, it.artifact->project_id);
  return out;
}

project_ptr manager::project(const std::string& id) const {
  auto s = snap_.get();
  auto it = s->projects.find(id);
  return it == s->projects.end() ? nullptr : it->second;
}

db::page_result<db::marketplace_row> manager::marketplace(const std::optional<std::string>& type,
                                                          std::int64_t skip, std::int64_t limit) const {
  std::lock_guard lk(market_mu_);
  db::page_result<db::marketplace_row> out;
  std::vector<const db::marketplace_row*> all;
  for (auto& r : market_)
    if (!type || r.type == *type) all.push_back(&r);
  out.total = static_cast<std::int64_t>(all.size());
  for (std::size_t i = static_cast<std::size_t>(skip); i < all.size() && (limit < 0 || i < static_cast<std::size_t>(skip + limit)); ++i)
    out.items.push_back(*all[i]);
  return out;
}

std::optional<micros> manager::marketplace_age() const {
  std::lock_guard lk(market_mu_);
  std::optional<micros> newest;
  for (auto& r : market_)
    if (!newest || r.cached_at > *newest) newest = r.cached_at;
  return newest;
}

}  // namespace projcache::cache
