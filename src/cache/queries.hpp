#pragma once
// What the read side is asked and what it answers, without any HTTP or JSON.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cache/store_health.hpp"
#include "cache/snapshot.hpp"

namespace projcache::cache {

struct project_query {
  std::optional<std::string> status;  // active | error by field; stale by the TTL test
  std::int64_t skip = 0, limit = 100;
};

struct artifact_query {
  std::optional<std::string> project_id, type;
  std::optional<bool> is_outdated;
  std::int64_t skip = 0, limit = 100;
};

struct stale_query {
  std::optional<std::string> project_id, type;
  std::string sort_by = "name";  // name | type | project | version_diff
  bool descending = false;
  std::int64_t skip = 0, limit = 100;
};

struct search_query {
  std::string query;
  std::optional<std::string> project_id, type;
  std::string sort_by = "relevance";  // relevance | name | type | updated
  std::int64_t skip = 0, limit = 50;
};

template <class T>
struct page {
  std::vector<T> items;
  std::int64_t total = 0;
  snapshot_ptr snap;  // keeps the items' rows alive
};

struct stale_item {
  artifact_ptr artifact;
  std::string project_name;
  std::optional<std::string> version_difference;
};

struct search_item {
  artifact_ptr artifact;
  std::string project_name;
  double score = 0;
};

struct refresh_schedule {
  bool is_running = false;
  std::optional<micros> next_run_time, last_run_time;
  bool full_refresh_running = false;
  std::int64_t progress_done = 0, progress_total = 0;
  bool operator==(const refresh_schedule&) const = default;
};

// One watcher backend's figures (platform::backend_figures, as a plain value).
struct watch_backend_state {
  std::string backend;             // "inotify" or "poll"
  std::int64_t watches = 0;        // inotify: watches held; poll: folders listed per cycle
  std::int64_t entries = 0;        // poll: entries compared per cycle
  std::uint64_t ticks = 0;         // poll
  double last_tick_ms = 0;         // poll
  double cpu_ms_total = 0;         // poll
  std::int64_t interval_ms = 0;    // poll
  bool operator==(const watch_backend_state&) const = default;
};

struct watcher_state {
  bool running = false;
  std::int64_t watches = 0;  // the primary backend's (inotify watches, or folders polled)
  std::vector<std::string> fallback_roots;  // roots polled because inotify's watch limit was reached
  std::string backend;                      // the primary backend ("" when not running)
  std::vector<watch_backend_state> backends;  // the primary, then the fallback poller if any
  bool operator==(const watcher_state&) const = default;
};

struct status_view {
  std::int64_t total_projects = 0, total_artifacts = 0, stale_projects = 0, outdated_artifacts = 0;
  std::int64_t cache_size_bytes = 0;
  std::optional<micros> oldest_entry, newest_entry, last_refresh;
  std::uint64_t hits = 0, misses = 0;
  std::optional<double> hit_rate;
  std::uint64_t generation = 0;
  store_state store;
  bool operator==(const status_view&) const = default;
};

}  // namespace projcache::cache
