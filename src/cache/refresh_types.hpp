#pragma once
// What a refresh, a registration and a forget come to: plain values handed across the
// service's door.
#include <cstdint>
#include <string>
#include <vector>

namespace projcache::cache {

struct refresh_counters {
  std::uint64_t completed = 0, failed = 0, retries = 0;
  double duration_seconds_sum = 0;
};

struct refresh_result {
  bool success = true;
  std::int64_t projects_refreshed = 0;
  bool changes_detected = false;
  std::vector<std::string> errors;
  double duration_seconds = 0;
};

// What registering a project path at run time came to (POST /cache/projects).
struct register_outcome {
  enum class kind { registered, already_registered, no_deployment, failed };
  kind what = kind::failed;
  std::string project_id;
  std::string detail;      // why, for no_deployment and failed
  refresh_result refresh;  // its first refresh, for registered and already_registered
};

// What compacting the database came to (VACUUM and ANALYZE: `projcache vacuum`, POST
// /cache/vacuum).
struct compact_outcome {
  bool success = false;
  std::int64_t before_bytes = 0, after_bytes = 0;
  double duration_seconds = 0;
  std::string error;  // why not, when it failed (a full disk, a read-only store)
};

enum class forget_outcome { forgotten, configured, not_registered, failed };

}  // namespace projcache::cache
