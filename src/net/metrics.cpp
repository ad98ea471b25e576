#include "net/metrics.hpp"

#include <sstream>

#include "cache/service.hpp"
#include "net/app_context.hpp"

namespace projcache::net {

void request_metrics::record(std::string_view route, unsigned status, double seconds) {
  std::lock_guard lk(mu_);
  auto it = series_.find(route);
  if (it == series_.end()) it = series_.emplace(std::string(route), std::map<unsigned, series>{}).first;
  auto& s = it->second[status];
  ++s.count;
  s.sum += seconds;
  for (std::size_t i = 0; i < buckets.size(); ++i)
    if (seconds <= buckets[i]) ++s.le[i];
}

std::string request_metrics::render() const {
  std::ostringstream o;
  o << "# HELP projcache_http_requests_total HTTP requests by route and status.\n"
       "# TYPE projcache_http_requests_total counter\n";
  std::lock_guard lk(mu_);
  for (auto& [route, by_status] : series_)
    for (auto& [status, s] : by_status)
      o << "projcache_http_requests_total{route=\"" << route << "\",status=\"" << status << "\"} " << s.count << "\n";
  o << "# HELP projcache_http_request_duration_seconds Time to answer, by route.\n"
       "# TYPE projcache_http_request_duration_seconds histogram\n";
  std::map<std::string, series> by_route;
  for (auto& [route, by_status] : series_) {
    auto& r = by_route[route];
    for (auto& [status, s] : by_status) {
      r.count += s.count;
      r.sum += s.sum;
      for (std::size_t i = 0; i < buckets.size(); ++i) r.le[i] += s.le[i];
    }
  }
  for (auto& [route, s] : by_route) {
    for (std::size_t i = 0; i < buckets.size(); ++i)
      o << "projcache_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"" << buckets[i] << "\"} " << s.le[i] << "\n";
    o << "projcache_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} " << s.count << "\n";
    o << "projcache_http_request_duration_seconds_sum{route=\"" << route << "\"} " << s.sum << "\n";
    o << "projcache_http_request_duration_seconds_count{route=\"" << route << "\"} " << s.count << "\n";
  }
  return o.str();
}

namespace {
// Per backend, labelled: the primary and the fallback poller can both run.
void watcher_series(std::ostringstream& o, const cache::watcher_state& w) {
  struct series {
    const char* name;
    const char* help;
    const char* type;
    double (*get)(const cache::watch_backend_state&);
  };
  static const series all[] = {
      {"projcache_watcher_backend_watches", "Folders a backend watches.", "gauge",
       [](const cache::watch_backend_state& b) { return static_cast<double>(b.watches); }},
      {"projcache_watcher_poll_entries", "Entries a poll cycle compares.", "gauge",
       [](const cache::watch_backend_state& b) { return static_cast<double>(b.entries); }},
      {"projcache_watcher_poll_ticks_total", "Poll ticks run.", "counter",
       [](const cache::watch_backend_state& b) { return static_cast<double>(b.ticks); }},
      {"projcache_watcher_poll_last_tick_seconds", "Wall time of the last poll tick.", "gauge",
       [](const cache::watch_backend_state& b) { return b.last_tick_ms / 1e3; }},
      {"projcache_watcher_poll_cpu_seconds_total", "CPU time spent in poll ticks.", "counter",
       [](const cache::watch_backend_state& b) { return b.cpu_ms_total / 1e3; }},
  };
  for (auto& s : all) {
    o << "# HELP " << s.name << " " << s.help << "\n# TYPE " << s.name << " " << s.type << "\n";
    for (std::size_t i = 0; i < w.backends.size(); ++i)
      o << s.name << "{backend=\"" << w.backends[i].backend << "\",role=\"" << (i == 0 ? "primary" : "fallback")
        << "\"} " << s.get(w.backends[i]) << "\n";
  }
}
}  // namespace

std::string render_metrics(app_context& app) {
  std::ostringstream o;
  auto gauge = [&](const char* name, const char* help, auto value, const char* type = "gauge") {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n" << name << " " << value << "\n";
  };
  auto f = app.cache.figures(true);
  const auto& st = f.status;
  const auto& w = f.watcher;
  const auto& rs = f.counters;
  o << app.metrics.render();
  gauge("projcache_cache_hits_total", "Reads answered from fresh cache.", st.hits, "counter");
  gauge("projcache_cache_misses_total", "Reads of a project not cached or stale.", st.misses, "counter");
  gauge("projcache_projects", "Cached projects.", st.total_projects);
  gauge("projcache_body_cache_bytes", "Bytes of GET bodies kept for the current snapshot.", app.bodies.bytes());
  gauge("projcache_store_degraded", "1 while the database refuses writes.", st.store.degraded ? 1 : 0);
  gauge("projcache_artifacts", "Cached artifacts.", st.total_artifacts);
  gauge("projcache_stale_projects", "Projects past their TTL.", st.stale_projects);
  gauge("projcache_outdated_artifacts", "Artifacts with a newer collection copy.", st.outdated_artifacts);
  gauge("projcache_refreshes_total", "Project refreshes finished.", rs.completed, "counter");
  gauge("projcache_refresh_errors_total", "Project refreshes that failed every attempt.", rs.failed, "counter");
  gauge("projcache_refresh_retries_total", "Attempts retried after a failure that may pass.", rs.retries, "counter");
  gauge("projcache_refresh_duration_seconds_sum", "Total time of finished refreshes.", rs.duration_seconds_sum, "counter");
  gauge("projcache_watcher_events_total", "Relevant file events seen.", f.watcher_events, "counter");
  gauge("projcache_watcher_watches", "Folders the primary backend watches (inotify watches, or folders polled).", w.watches);
  gauge("projcache_watcher_fallback_roots", "Roots polled because inotify's watch limit was reached.", w.fallback_roots.size());
  watcher_series(o, w);
  gauge("projcache_ws_subscribers", "Connected WebSocket clients.", app.stats.subscribers.load());
  gauge("projcache_ws_dropped_clients_total", "Slow clients closed with 1008.", app.stats.dropped_clients.load(), "counter");
  gauge("projcache_ws_queued_bytes", "Bytes queued for WebSocket clients.", app.stats.ws_queued_bytes.load());
  gauge("projcache_http_connections", "Open HTTP connections.", app.stats.connections.load());
  gauge("projcache_http_requests_in_flight", "Requests being handled (this one included).", app.stats.in_flight.load());
  gauge("projcache_http_idle_connections", "HTTP connections waiting for their next request.", app.idle.size());
  gauge("projcache_http_evicted_connections_total", "Idle connections closed at the cap to admit a new client.",
        app.stats.evicted_connections.load(), "counter");
  gauge("projcache_http_refused_connections_total", "Connections refused with 503 at the cap, every one busy.",
        app.stats.refused_connections.load(), "counter");
  gauge("projcache_db_size_bytes", "Database file size.", f.db_bytes);
  gauge("projcache_db_wal_size_bytes", "Write-ahead log size.", f.wal_bytes);
  gauge("projcache_db_checkpoints_busy_total", "WAL checkpoints a reader kept from finishing.",
        f.wal_checkpoints_busy, "counter");
  return o.str();
}

}  // namespace projcache::net
