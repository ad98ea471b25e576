// The read model: every answer comes from the immutable snapshot the store last published.
#include "cache/read_model.hpp"

#include <algorithm>

#include "common/ascii.hpp"
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

// The page of a sequence offered in order, with its true total; nothing outside the page is
// copied or filled in.
template <class T>
class pager {
 public:
  pager(std::int64_t skip, std::int64_t limit) : skip_(std::max<std::int64_t>(skip, 0)), limit_(limit) {}
  bool wanted() const { return total_ >= skip_ && (limit_ < 0 || total_ < skip_ + limit_); }
  void offer(const T& v) {
    if (wanted()) items_.push_back(v);
    ++total_;
  }
  template <class Fill>
  void offer_with(T v, Fill&& fill) {
    if (wanted()) {
      fill(v);
      items_.push_back(std::move(v));
    }
    ++total_;
  }
  // A contiguous run: only the part inside the page is visited.
  template <class Make, class Fill>
  void offer_span(const artifact_ref* b, const artifact_ref* e, Make&& make, Fill&& fill) {
    auto n = static_cast<std::int64_t>(e - b);
    std::int64_t from = std::clamp<std::int64_t>(skip_ - total_, 0, n);
    std::int64_t to = limit_ < 0 ? n : std::clamp<std::int64_t>(skip_ + limit_ - total_, 0, n);
    for (std::int64_t i = from; i < to; ++i) {
      T v = make(b[i]);
      fill(v);
      items_.push_back(std::move(v));
    }
    total_ += n;
  }
  template <class Make>
  void offer_all(const std::vector<artifact_ref>& all, Make&& make) {
    auto n = static_cast<std::int64_t>(all.size());
    std::int64_t from = std::min(skip_, n), to = limit_ < 0 ? n : std::min(n, skip_ + limit_);
    for (std::int64_t i = from; i < to; ++i) items_.push_back(make(all[static_cast<std::size_t>(i)]));
    total_ += n;
  }
  page<T> done(snapshot_ptr snap) {
    page<T> out;
    out.items = std::move(items_);
    out.total = total_;
    out.snap = std::move(snap);
    return out;
  }

 private:
  std::int64_t skip_, limit_, total_ = 0;
  std::vector<T> items_;
};

bool matches(const db::artifact_row& a, const std::optional<std::string>& project_id,
             const std::optional<std::string>& type) {
  return (!project_id || a.project_id == *project_id) && (!type || a.type == *type);
}

std::string project_name_of(const snapshot& s, const std::string& id) {
  auto it = s.projects.find(id);
  return it == s.projects.end() ? "Unknown" : it->second->row.name;
}
}  // namespace

read_model::read_model(const settings& s)
    : ttl_us_(static_cast<micros>(s.ttl_minutes * 60 * 1000000)),
      retry_schedule_us_(static_cast<micros>(s.retry_base_seconds * 3 * 1e6)) {}

void read_model::install(snapshot_ptr s) { snap_.set(std::move(s)); }

void read_model::set_marketplace(std::vector<db::marketplace_row> rows) {
  std::lock_guard lk(market_mu_);
  market_ = std::move(rows);
}

bool read_model::is_stale(const project_entry& p, micros now) const {
  return !p.row.last_fetched || *p.row.last_fetched < now - ttl_us_;
}

bool read_model::count_read(const std::optional<std::string>& project_id) const {
  if (!project_id) {
    hits_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  auto s = snap_.get();
  auto it = s->projects.find(*project_id);
  if (it != s->projects.end() && !is_stale(*it->second, now_micros())) {
    hits_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  if (it == s->projects.end()) return false;
  // A project that just failed is being retried on its own schedule: a read (a client polling
  // it) must not start it over and again. Once the schedule has passed, a read retries it.
  const auto& row = it->second->row;
  return !(row.status == "error" && now_micros() - row.updated_at < retry_schedule_us_);
}

status_view read_model::status() const {
  auto s = snap_.get();
  status_view v;
  v.generation = s->generation;
  micros now = now_micros();
  v.total_projects = static_cast<std::int64_t>(s->projects.size());
  v.total_artifacts = static_cast<std::int64_t>(s->artifacts->items.size());
  v.outdated_artifacts = s->outdated_artifacts;
  const auto& t = s->times();
  // is_stale, counted by binary search.
  v.stale_projects = t.fetched_before(now - ttl_us_);
  v.oldest_entry = t.oldest_created;
  v.newest_entry = t.newest_created;
  v.last_refresh = t.last_fetched;
  v.hits = hits_.load();
  v.misses = misses_.load();
  if (v.hits + v.misses > 0) v.hit_rate = static_cast<double>(v.hits) / static_cast<double>(v.hits + v.misses);
  return v;
}

page<project_ptr> read_model::list_projects(const project_query& q) const {
  auto s = snap_.get();
  micros now = now_micros();
  pager<project_ptr> pg(q.skip, q.limit);
  for (auto& p : s->projects_sorted) {
    if (q.status) {
      bool keep = *q.status == "stale" ? is_stale(*p, now) : p->row.status == *q.status;
      if (!keep) continue;
    }
    pg.offer(p);  // only the page is copied
  }
  return pg.done(s);
}

page<artifact_ptr> read_model::list_artifacts(const artifact_query& q) const {
  auto s = snap_.get();
  pager<artifact_ptr> pg(q.skip, q.limit);
  auto keep = [&](const db::artifact_row& a) {
    return matches(a, q.project_id, q.type) && (!q.is_outdated || a.is_outdated == *q.is_outdated);
  };
  const auto& idx = *s->artifacts;
  auto ptr = [&](artifact_ref r) { return artifact_ptr(s, r); };  // shares the snapshot's ownership
  if (q.project_id) {  // the project's own sorted list: no scan of everything
    if (auto it = s->projects.find(*q.project_id); it != s->projects.end())
      for (auto& a : it->second->artifacts)
        if (keep(*a)) pg.offer(a);
  } else if (!q.type && !q.is_outdated) {
    pg.offer_all(idx.items, ptr);
  } else if (q.is_outdated && *q.is_outdated) {
    for (auto i : idx.outdated)
      if (keep(*idx.items[i])) pg.offer(ptr(idx.items[i]));
  } else {
    for (auto r : idx.items)
      if (keep(*r)) pg.offer(ptr(r));
  }
  return pg.done(std::move(s));
}

page<stale_item> read_model::stale_artifacts(const stale_query& q) const {
  auto s = snap_.get();
  const auto& idx = *s->artifacts;
  auto keep = [&](artifact_ref a) { return matches(*a, q.project_id, q.type); };
  auto ptr = [&](artifact_ref r) { return artifact_ptr(s, r); };
  auto fill = [&](stale_item& it) {
    it.project_name = project_name_of(*s, *it.artifact->project_id);
    it.version_difference =
        version_difference(it.artifact->deployed_version.optional(), it.artifact->upstream_version.optional());
  };
  if (q.sort_by == "name") {  // the index order already: only the page is built
    pager<stale_item> pg(q.skip, q.limit);
    auto offer = [&](std::size_t i) {
      if (keep(idx.items[i])) pg.offer_with(stale_item{ptr(idx.items[i]), {}, {}}, fill);
    };
    if (q.descending)
      for (auto it = idx.outdated.rbegin(); it != idx.outdated.rend(); ++it) offer(*it);
    else
      for (auto i : idx.outdated) offer(i);
    return pg.done(std::move(s));
  }
  std::vector<stale_item> all;
  for (auto i : idx.outdated)
    if (keep(idx.items[i])) {
      all.push_back({ptr(idx.items[i]), {}, {}});
      fill(all.back());
    }
  // The base order is (lower name, id); a stable sort on the key keeps it among equals.
  if (q.sort_by == "type") {
    std::stable_sort(all.begin(), all.end(), [](auto& x, auto& y) { return *x.artifact->type < *y.artifact->type; });
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

page<search_item> read_model::search(const search_query& q) const {
  auto s = snap_.get();
  std::string needle = ascii_lower(q.query);
  auto score_of = [&](const std::string& lower) {
    return lower == needle ? 100.0 : (lower.starts_with(needle) ? 80.0 : 60.0);
  };
  // Matching spans, in name order: each distinct name is looked at once.
  struct span {
    double score;
    const artifact_ref* begin;
    const artifact_ref* end;
  };
  std::vector<span> spans;
  std::vector<artifact_ref> own;  // the project's rows, when the search is for one project
  if (q.project_id) {
    if (auto it = s->projects.find(*q.project_id); it != s->projects.end())
      for (auto& a : it->second->artifacts) own.push_back(a.get());
    for (auto& a : own)
      if (auto lower = ascii_lower(*a->name); lower.find(needle) != std::string::npos)
        spans.push_back({score_of(lower), &a, &a + 1});
  } else {
    const auto& idx = *s->artifacts;
    for (auto& g : idx.groups)
      if (g.lower.find(needle) != std::string::npos)
        spans.push_back({score_of(g.lower), idx.items.data() + g.begin, idx.items.data() + g.end});
  }
  auto keep = [&](artifact_ref a) { return !q.type || a->type == *q.type; };
  auto ptr = [&](artifact_ref r) { return artifact_ptr(s, r); };
  auto fill = [&](search_item& it) { it.project_name = project_name_of(*s, *it.artifact->project_id); };
  if (q.sort_by == "relevance" || q.sort_by == "name") {
    if (q.sort_by == "relevance")
      std::stable_sort(spans.begin(), spans.end(), [](auto& x, auto& y) { return x.score > y.score; });
    pager<search_item> pg(q.skip, q.limit);
    for (auto& sp : spans) {
      if (!q.type) {
        pg.offer_span(sp.begin, sp.end, [&](artifact_ref a) { return search_item{ptr(a), {}, sp.score}; }, fill);
        continue;
      }
      for (auto* a = sp.begin; a != sp.end; ++a)
        if (keep(*a)) pg.offer_with(search_item{ptr(*a), {}, sp.score}, fill);
    }
    return pg.done(std::move(s));
  }
  std::vector<search_item> all;
  for (auto& sp : spans)
    for (auto* a = sp.begin; a != sp.end; ++a)
      if (keep(*a)) all.push_back({ptr(*a), {}, sp.score});
  if (q.sort_by == "type") {
    std::stable_sort(all.begin(), all.end(), [](auto& x, auto& y) { return *x.artifact->type < *y.artifact->type; });
  } else {  // updated: newest first
    std::stable_sort(all.begin(), all.end(), [](auto& x, auto& y) { return x.artifact->updated_at > y.artifact->updated_at; });
  }
  auto out = paginate(std::move(all), q.skip, q.limit, s);
  for (auto& it : out.items) fill(it);
  return out;
}

project_ptr read_model::project(const std::string& id) const {
  auto s = snap_.get();
  auto it = s->projects.find(id);
  return it == s->projects.end() ? nullptr : it->second;
}

db::page_result<db::marketplace_row> read_model::marketplace(const std::optional<std::string>& type,
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

std::optional<micros> read_model::marketplace_age() const {
  std::lock_guard lk(market_mu_);
  std::optional<micros> newest;
  for (auto& r : market_)
    if (!newest || r.cached_at > *newest) newest = r.cached_at;
  return newest;
}

}  // namespace projcache::cache
