#pragma once
// Upkeep of a database that lives for weeks, all on the write strand: the WAL policy (a
// checkpoint every few hundred writes, a truncate past its bound), and once an hour (and at
// demand) retention, the size cap, VACUUM and ANALYZE when they are worth it. Checking whether
// fingerprinted paths still exist is disk work, so it runs on the pool, not on an I/O thread.
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cache/executors.hpp"
#include "cache/refresh_types.hpp"
#include "cache/settings.hpp"
#include "common/time_format.hpp"
#include "db/types.hpp"

namespace projcache::cache {

class database;
class read_model;
class fingerprint_cache;

struct retention_outcome {
  std::int64_t fingerprints_purged = 0, fingerprints_kept = 0, marketplace_purged = 0;
};

struct size_cap_outcome {
  bool over_cap = false, still_over = false;
  std::int64_t before_bytes = 0, after_bytes = 0;
  std::int64_t fingerprints_deleted = 0, marketplace_deleted = 0;
};

struct housekeeping_report {
  retention_outcome retention;
  size_cap_outcome size_cap;
  bool vacuumed = false, analyzed = false;
  std::int64_t file_bytes = 0;
};

class upkeep {
 public:
  using clock_fn = std::function<micros()>;
  using done_fn = std::function<void(housekeeping_report)>;

  upkeep(const settings& s, database& db, read_model& reads, fingerprint_cache& fingerprints, executors& ex,
         clock_fn clock = [] { return now_micros(); });
  ~upkeep();
  upkeep(const upkeep&) = delete;
  upkeep& operator=(const upkeep&) = delete;

  // ---- the schedule: a first pass after `first`, then one every `period`
  void start(std::chrono::milliseconds first, std::chrono::milliseconds period);
  void stop();
  // One pass now; done runs on the write strand with what was done.
  void run_once(done_fn done);

  // ---- the WAL (the write strand). Called by the refresh job once a batch's events are out,
  // so a checkpoint's fsync never delays an event; a failure is recorded, not thrown.
  void maintain_wal();
  std::uint64_t wal_checkpoints_busy() const { return wal_busy_.load(); }

  // ---- VACUUM and ANALYZE now, whatever the schedule says (the write strand).
  compact_outcome compact();

  // ---- sizes (any thread; the files' own sizes are the database's)
  // database::db_bytes, looked up again only when the snapshot's generation moved or a second passed.
  std::int64_t db_bytes_for_status(std::uint64_t generation) const;
  db::storage_usage storage_usage();  // the write strand

 private:
  void schedule();
  void checkpoint_if_due();
  void finish(std::vector<std::string> gone, std::vector<std::string> alive, micros now, done_fn done);
  // Paths whose fingerprint was last seen before cutoff: the candidates for the retention purge.
  std::vector<std::string> fingerprints_seen_before(micros cutoff) const;
  // Forgets the fingerprints of paths gone from disk, marks the others seen at `now`, and drops
  // marketplace rows fetched before market_cutoff.
  retention_outcome apply_retention(const std::vector<std::string>& gone, const std::vector<std::string>& alive,
                                    micros now, micros market_cutoff);
  // Over the cap, the least recently seen fingerprints go first, then the oldest marketplace
  // rows (both are rebuilt on demand); projects and artifacts are the cache itself and stay.
  size_cap_outcome enforce_size_cap(std::int64_t cap_bytes);
  // VACUUM when at least a quarter of the file (and 1 MiB) is free pages, or when forced.
  bool vacuum_if_worthwhile(micros now, bool force);
  // ANALYZE when never done, older than a week, or after a VACUUM.
  bool analyze_if_due(micros now, bool force);

  // Handlers still queued when upkeep goes must not touch it: each runs under the guard's lock
  // and returns when it is dead (the destructor waits for one running now).
  struct guard {
    std::mutex mu;
    bool dead = false;
  };
  template <class F>
  auto guarded(F f);

  const settings& cfg_;
  database& db_;
  read_model& reads_;
  fingerprint_cache& fingerprints_;
  executors& ex_;
  std::shared_ptr<guard> guard_ = std::make_shared<guard>();
  clock_fn clock_;
  boost::asio::steady_timer timer_;
  std::chrono::milliseconds period_{std::chrono::hours(1)};
  std::atomic<bool> stopped_{false};
  std::chrono::steady_clock::time_point next_truncate_try_{};
  std::atomic<std::uint64_t> wal_busy_{0};
  mutable std::mutex size_mu_;
  mutable std::int64_t size_bytes_ = 0;
  mutable std::uint64_t size_generation_ = 0;
  mutable std::chrono::steady_clock::time_point size_checked_{};
};

}  // namespace projcache::cache
