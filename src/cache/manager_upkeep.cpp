// The manager's long-running upkeep: WAL checkpoints, retention, the size cap, VACUUM and
// ANALYZE. All of it runs on the write strand; reads come from the snapshot and never wait.
#include <sys/stat.h>

#include <boost/log/trivial.hpp>
#include <cmath>

#include "cache/manager.hpp"
#include "cache/util.hpp"
#include "common/time_format.hpp"
#include "db/connection.hpp"
#include "db/repository.hpp"
#include "db/transaction.hpp"

namespace projcache::cache {

namespace {
constexpr micros week = 7LL * 24 * 3600 * 1000000;
constexpr int max_cap_rounds = 8;
}  // namespace

std::int64_t manager::wal_bytes() const { return file_bytes(settings_.db_path.string() + "-wal"); }

std::int64_t manager::db_bytes() const { return file_bytes(settings_.db_path); }

void manager::maintain_wal() {
  constexpr int every = 256;
  bool big = wal_bytes() > settings_.wal_bound_bytes;
  auto now = std::chrono::steady_clock::now();
  if (big && now >= next_truncate_try_) {
    // Past the bound: TRUNCATE even though readers keep arriving (a passive checkpoint can be
    // starved by them forever). It waits briefly for readers of old snapshots, never long.
    writes_since_checkpoint_ = 0;
    auto r = conn_->checkpoint(db::connection::checkpoint_mode::truncate, 100);
    if (r.busy) {
      ++wal_busy_;
      next_truncate_try_ = now + std::chrono::seconds(1);
      BOOST_LOG_TRIVIAL(debug) << "WAL above " << settings_.wal_bound_bytes
                               << " bytes but a reader holds an old snapshot; retrying";
    }
    return;
  }
  if (writes_since_checkpoint_ < every) return;
  writes_since_checkpoint_ = 0;
  if (conn_->checkpoint(db::connection::checkpoint_mode::passive, 0).busy) ++wal_busy_;
}

db::storage_usage manager::storage_usage() { return repo_->usage(); }

std::vector<std::string> manager::fingerprints_seen_before(micros cutoff) const {
  auto paths = repo_->fingerprint_paths_seen_before(cutoff);
  std::erase_if(paths, [&](const std::string& p) { return fingerprints_.pending(p); });
  return paths;
}

retention_outcome manager::apply_retention(const std::vector<std::string>& gone, const std::vector<std::string>& alive,
                                           micros now, micros market_cutoff) {
  retention_outcome out;
  db::transaction tx(*conn_);
  repo_->delete_fingerprints(gone);
  repo_->touch_fingerprints(alive, now);
  out.marketplace_purged = repo_->purge_marketplace_older_than(market_cutoff);
  tx.commit();
  fingerprints_.erase(gone);
  fingerprints_.touch(alive, now);
  out.fingerprints_purged = static_cast<std::int64_t>(gone.size());
  out.fingerprints_kept = static_cast<std::int64_t>(alive.size());
  if (out.marketplace_purged) reload_marketplace();
  ++writes_since_checkpoint_;
  return out;
}

size_cap_outcome manager::enforce_size_cap(std::int64_t cap_bytes) {
  size_cap_outcome out;
  out.before_bytes = out.after_bytes = repo_->usage().used_bytes();
  if (out.before_bytes <= cap_bytes) return out;
  out.over_cap = true;
  BOOST_LOG_TRIVIAL(warning) << "cache database uses " << out.before_bytes << " bytes, over max_cache_size_mb ("
                             << cap_bytes << " bytes): dropping the oldest fingerprints and marketplace rows";
  for (int round = 0; round < max_cap_rounds && out.after_bytes > cap_bytes; ++round) {
    // Delete about as many rows as the overshoot is worth (dbstat gives the bytes per row; a
    // share of the rows in proportion when it is missing), then VACUUM so the freed pages leave
    // the file and the next measure is honest.
    std::int64_t excess = out.after_bytes - cap_bytes;
    std::int64_t fps = repo_->count_fingerprints();
    std::int64_t deleted = 0;
    {
      db::transaction tx(*conn_);
      if (fps > 0) {
        double per_row = static_cast<double>(repo_->fingerprint_bytes().value_or(out.after_bytes)) / fps;
        auto n = std::max<std::int64_t>(64, static_cast<std::int64_t>(std::ceil(excess * 1.1 / per_row)));
        auto paths = repo_->delete_oldest_fingerprints(n);
        fingerprints_.erase(paths);
        deleted = static_cast<std::int64_t>(paths.size());
        out.fingerprints_deleted += deleted;
      } else {
        deleted = repo_->delete_oldest_marketplace(std::max<std::int64_t>(16, excess / 512));
        out.marketplace_deleted += deleted;
      }
      tx.commit();
    }
    if (deleted == 0) break;
    repo_->vacuum(now_micros());
    out.after_bytes = repo_->usage().used_bytes();
  }
  if (out.marketplace_deleted) reload_marketplace();
  conn_->checkpoint(db::connection::checkpoint_mode::truncate, 100);
  out.still_over = out.after_bytes > cap_bytes;
  if (out.still_over)
    BOOST_LOG_TRIVIAL(warning) << "the cached projects and artifacts alone need " << out.after_bytes
                               << " bytes, more than max_cache_size_mb allows; nothing else is left to drop";
  else
    BOOST_LOG_TRIVIAL(info) << "cache database cut from " << out.before_bytes << " to " << out.after_bytes << " bytes ("
                            << out.fingerprints_deleted << " fingerprints, " << out.marketplace_deleted
                            << " marketplace rows dropped)";
  return out;
}

bool manager::vacuum_if_worthwhile(micros now, bool force) {
  auto u = repo_->usage();
  bool worthwhile = u.free_bytes() >= (1LL << 20) && u.freelist_count * 4 >= u.page_count;
  if (!force && !worthwhile) return false;
  auto t0 = std::chrono::steady_clock::now();
  repo_->vacuum(now);
  conn_->checkpoint(db::connection::checkpoint_mode::truncate, 100);
  BOOST_LOG_TRIVIAL(info) << "VACUUM: " << u.file_bytes() << " -> " << repo_->usage().file_bytes() << " bytes in "
                          << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()
                          << " ms";
  return true;
}

bool manager::analyze_if_due(micros now, bool force) {
  auto last = repo_->get_meta("last_analyze");
  auto last_t = last ? parse_time(*last) : std::nullopt;
  if (!force && last_t && now - *last_t < week) return false;
  repo_->analyze(now);
  return true;
}

}  // namespace projcache::cache
