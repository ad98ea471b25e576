#pragma once
// What the cache is configured with (contract section 7), after flags, environment and
// config.toml were merged (app/config.cpp).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace projcache::cache {

struct settings {
  std::filesystem::path home;
  std::filesystem::path db_path;
  std::vector<std::filesystem::path> search_roots;
  std::vector<std::filesystem::path> explicit_projects;
  std::int64_t ttl_minutes = 360;
  double refresh_interval_hours = 6.0;
  int max_concurrent_refreshes = 3;
  bool enable_background_refresh = true;
  double retry_base_seconds = 5.0;
  double refresh_timeout_seconds = 300;
  int debounce_ms = 100;
  std::string watcher = "auto";  // auto | inotify | poll (platform::watch_backends())
  int poll_interval_ms = 1000;
  std::optional<std::string> marketplace_url;
  int scan_threads = 2;
  int discovery_depth = 3;
  // Housekeeping (contract: max_cache_size_mb, cleanup_retention_days).
  std::int64_t max_cache_size_bytes = 500LL * 1024 * 1024;
  double retention_days = 30;
  std::int64_t wal_bound_bytes = 64LL * 1024 * 1024;
};

}  // namespace projcache::cache
