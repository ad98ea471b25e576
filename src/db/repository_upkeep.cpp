// Housekeeping queries: page usage, retention and size-cap deletes, VACUUM and ANALYZE.
#include "db/repository.hpp"

#include "common/time_format.hpp"

namespace projcache::db {

storage_usage repository::usage() {
  storage_usage u;
  u.page_size = c_.query_int("PRAGMA page_size");
  u.page_count = c_.query_int("PRAGMA page_count");
  u.freelist_count = c_.query_int("PRAGMA freelist_count");
  return u;
}

void repository::vacuum(micros now) {
  c_.exec("VACUUM");
  set_meta("last_vacuum", format_api_time(now));
}

// Sampled: the planner needs rough row counts, and a full ANALYZE of a big cache holds the
// write strand for tens of milliseconds.
void repository::analyze(micros now) {
  c_.exec("PRAGMA analysis_limit=1000; ANALYZE");
  set_meta("last_analyze", format_api_time(now));
}

}  // namespace projcache::db
