#pragma once
// The read model: what every query answers from. It holds the immutable snapshot the store last
// published and a copy of the marketplace listings; reads run on any thread, never wait for a
// write, and never touch the database. Hits and misses are counted here too, as reads happen.
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cache/queries.hpp"
#include "cache/settings.hpp"
#include "cache/snapshot.hpp"
#include "db/types.hpp"

namespace projcache::cache {

class read_model {
 public:
  explicit read_model(const settings& s);
  read_model(const read_model&) = delete;
  read_model& operator=(const read_model&) = delete;

  // ---- reads (any thread)
  snapshot_ptr current() const { return snap_.get(); }
  project_ptr project(const std::string& id) const;
  // Never fetched, or fetched longer than the TTL ago.
  bool is_stale(const project_entry& p, micros now) const;
  page<project_ptr> list_projects(const project_query& q) const;
  page<artifact_ptr> list_artifacts(const artifact_query& q) const;
  page<stale_item> stale_artifacts(const stale_query& q) const;
  page<search_item> search(const search_query& q) const;
  db::page_result<db::marketplace_row> marketplace(const std::optional<std::string>& type, std::int64_t skip,
                                                   std::int64_t limit) const;
  std::optional<micros> marketplace_age() const;
  // What the snapshot and the read counts say; the service adds the database's size and health.
  status_view status() const;
  // Counts a read of a project: a hit when cached and fresh, else a miss. True when the project
  // is cached but stale and should be refreshed in the background (the service does that).
  bool count_read(const std::optional<std::string>& project_id) const;

  // ---- what readers see next (the store, on the write strand)
  void install(snapshot_ptr s);
  void set_marketplace(std::vector<db::marketplace_row> rows);  // by (lower name, id)

 private:
  const micros ttl_us_;
  const micros retry_schedule_us_;  // a failed project's retries: base + 2 x base
  snapshot_holder snap_;
  mutable std::atomic<std::uint64_t> hits_{0}, misses_{0};
  mutable std::mutex market_mu_;
  std::vector<db::marketplace_row> market_;
};

}  // namespace projcache::cache
