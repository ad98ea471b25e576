// Upkeep of the database: the WAL policy, and the hourly pass (retention, the size cap, VACUUM,
// ANALYZE) with its schedule. All of it writes on the write strand; reads come from the
// snapshot and never wait.
#include "cache/upkeep.hpp"

#include <sys/stat.h>

#include <boost/asio/post.hpp>
#include <boost/log/trivial.hpp>
#include <cmath>

#include "cache/content_hash.hpp"
#include "cache/database.hpp"
#include "cache/read_model.hpp"
#include "common/unexpected.hpp"
#include "db/connection.hpp"
#include "db/error.hpp"
#include "db/fingerprint_rows.hpp"
#include "db/marketplace_rows.hpp"
#include "db/repository.hpp"
#include "db/transaction.hpp"

namespace asio = boost::asio;

namespace projcache::cache {

namespace {
constexpr micros week = 7LL * 24 * 3600 * 1000000;
constexpr int max_cap_rounds = 8;
}  // namespace

// A stat (a path walk) per status request was a tenth of its cost: the size is looked up again
// when the cache changed or a second passed.
std::int64_t upkeep::db_bytes_for_status(std::uint64_t generation) const {
  std::lock_guard lk(size_mu_);
  auto now = std::chrono::steady_clock::now();
  if (generation != size_generation_ || now - size_checked_ > std::chrono::seconds(1)) {
    size_bytes_ = db_.db_bytes();
    size_generation_ = generation;
    size_checked_ = now;
  }
  return size_bytes_;
}

void upkeep::maintain_wal() {
  try {
    checkpoint_if_due();
  } catch (const db::db_error& e) {
    db_.note_failure("checkpointing the WAL", e.sqlite_code());
  }
}

void upkeep::checkpoint_if_due() {
  constexpr int every = 256;
  bool big = db_.wal_bytes() > cfg_.wal_bound_bytes;
  auto now = std::chrono::steady_clock::now();
  if (big && now >= next_truncate_try_) {
    // Past the bound: TRUNCATE even though readers keep arriving (a passive checkpoint can be
    // starved by them forever). It waits briefly for readers of old snapshots, never long.
    db_.checkpointed();
    auto r = db_.conn().checkpoint(db::connection::checkpoint_mode::truncate, 100);
    if (r.busy) {
      ++wal_busy_;
      next_truncate_try_ = now + std::chrono::seconds(1);
      BOOST_LOG_TRIVIAL(debug) << "WAL above " << cfg_.wal_bound_bytes
                               << " bytes but a reader holds an old snapshot; retrying";
    }
    return;
  }
  if (db_.writes_since_checkpoint() < every) return;
  db_.checkpointed();
  if (db_.conn().checkpoint(db::connection::checkpoint_mode::passive, 0).busy) ++wal_busy_;
}

db::storage_usage upkeep::storage_usage() { return db_.repo().usage(); }

std::vector<std::string> upkeep::fingerprints_seen_before(micros cutoff) const {
  auto paths = db::fingerprint_rows(db_.conn()).paths_seen_before(cutoff);
  std::erase_if(paths, [&](const std::string& p) { return fingerprints_.pending(p); });
  return paths;
}

retention_outcome upkeep::apply_retention(const std::vector<std::string>& gone, const std::vector<std::string>& alive,
                                           micros now, micros market_cutoff) {
  retention_outcome out;
  db::transaction tx(db_.conn());
  db::fingerprint_rows(db_.conn()).erase(gone);
  db::fingerprint_rows(db_.conn()).touch(alive, now);
  out.marketplace_purged = db::marketplace_rows(db_.conn()).purge_older_than(market_cutoff);
  tx.commit();
  fingerprints_.erase(gone);
  fingerprints_.touch(alive, now);
  out.fingerprints_purged = static_cast<std::int64_t>(gone.size());
  out.fingerprints_kept = static_cast<std::int64_t>(alive.size());
  if (out.marketplace_purged) reads_.set_marketplace(db_.marketplace_listings());
  db_.count_write();
  return out;
}

size_cap_outcome upkeep::enforce_size_cap(std::int64_t cap_bytes) {
  size_cap_outcome out;
  out.before_bytes = out.after_bytes = db_.repo().usage().used_bytes();
  if (out.before_bytes <= cap_bytes) return out;
  out.over_cap = true;
  BOOST_LOG_TRIVIAL(warning) << "cache database uses " << out.before_bytes << " bytes, over max_cache_size_mb ("
                             << cap_bytes << " bytes): dropping the oldest fingerprints and marketplace rows";
  for (int round = 0; round < max_cap_rounds && out.after_bytes > cap_bytes; ++round) {
    // Delete about as many rows as the overshoot is worth (dbstat gives the bytes per row; a
    // share of the rows in proportion when it is missing), then VACUUM so the freed pages leave
    // the file and the next measure is honest.
    std::int64_t excess = out.after_bytes - cap_bytes;
    std::int64_t fps = db::fingerprint_rows(db_.conn()).count();
    std::int64_t deleted = 0;
    {
      db::transaction tx(db_.conn());
      if (fps > 0) {
        double per_row = static_cast<double>(db::fingerprint_rows(db_.conn()).bytes().value_or(out.after_bytes)) / fps;
        auto n = std::max<std::int64_t>(64, static_cast<std::int64_t>(std::ceil(excess * 1.1 / per_row)));
        auto paths = db::fingerprint_rows(db_.conn()).delete_oldest(n);
        fingerprints_.erase(paths);
        deleted = static_cast<std::int64_t>(paths.size());
        out.fingerprints_deleted += deleted;
      } else {
        deleted = db::marketplace_rows(db_.conn()).delete_oldest(std::max<std::int64_t>(16, excess / 512));
        out.marketplace_deleted += deleted;
      }
      tx.commit();
    }
    if (deleted == 0) break;
    db_.repo().vacuum(now_micros());
    out.after_bytes = db_.repo().usage().used_bytes();
  }
  if (out.marketplace_deleted) reads_.set_marketplace(db_.marketplace_listings());
  db_.conn().checkpoint(db::connection::checkpoint_mode::truncate, 100);
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

bool upkeep::vacuum_if_worthwhile(micros now, bool force) {
  auto u = db_.repo().usage();
  bool worthwhile = u.free_bytes() >= (1LL << 20) && u.freelist_count * 4 >= u.page_count;
  if (!force && !worthwhile) return false;
  auto t0 = std::chrono::steady_clock::now();
  db_.repo().vacuum(now);
  db_.conn().checkpoint(db::connection::checkpoint_mode::truncate, 100);
  BOOST_LOG_TRIVIAL(info) << "VACUUM: " << u.file_bytes() << " -> " << db_.repo().usage().file_bytes() << " bytes in "
                          << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()
                          << " ms";
  return true;
}

bool upkeep::analyze_if_due(micros now, bool force) {
  auto last = db_.repo().get_meta("last_analyze");
  auto last_t = last ? parse_time(*last) : std::nullopt;
  if (!force && last_t && now - *last_t < week) return false;
  db_.repo().analyze(now);
  return true;
}

template <class F>
auto upkeep::guarded(F f) {
  return [g = guard_, f = std::move(f)](auto&&... args) mutable {
    std::lock_guard lk(g->mu);
    if (!g->dead) f(std::forward<decltype(args)>(args)...);
  };
}

upkeep::upkeep(const settings& s, database& db, read_model& reads, fingerprint_cache& fingerprints, executors& ex,
               clock_fn clock)
    : cfg_(s), db_(db), reads_(reads), fingerprints_(fingerprints), ex_(ex), clock_(std::move(clock)),
      timer_(ex.write_strand) {}

upkeep::~upkeep() {
  stopped_ = true;
  std::lock_guard lk(guard_->mu);
  guard_->dead = true;
}

void upkeep::start(std::chrono::milliseconds first, std::chrono::milliseconds period) {
  period_ = period;
  asio::post(ex_.write_strand, guarded([this, first] {
               timer_.expires_after(first);
               timer_.async_wait(guarded([this](boost::system::error_code ec) {
                 if (!ec && !stopped_) run_once([this](housekeeping_report) { schedule(); });
               }));
             }));
}

void upkeep::schedule() {
  if (stopped_) return;
  timer_.expires_after(period_);
  timer_.async_wait(guarded([this](boost::system::error_code ec) {
    if (!ec && !stopped_) run_once([this](housekeeping_report) { schedule(); });
  }));
}

void upkeep::stop() {
  if (stopped_.exchange(true)) return;
  asio::post(ex_.write_strand, guarded([this] { timer_.cancel(); }));
}

void upkeep::run_once(done_fn done) {
  asio::post(ex_.write_strand, guarded([this, done = std::move(done)]() mutable {
    micros now = clock_();
    auto retention = static_cast<micros>(cfg_.retention_days * 24 * 3600 * 1e6);
    auto candidates = fingerprints_seen_before(now - retention);
    // Only fingerprints not seen for a whole retention period are looked at; lstat says
    // whether their path is still there (then it is kept and marked seen).
    asio::post(ex_.pool, guarded([this, now, candidates = std::move(candidates), done = std::move(done)]() mutable {
      std::vector<std::string> gone, alive;
      for (auto& p : candidates) {
        struct stat st;
        (::lstat(p.c_str(), &st) == 0 ? alive : gone).push_back(std::move(p));
      }
      asio::post(ex_.write_strand, guarded([this, gone = std::move(gone), alive = std::move(alive), now,
                                            done = std::move(done)]() mutable {
        finish(std::move(gone), std::move(alive), now, std::move(done));
      }));
    }));
  }));
}

void upkeep::finish(std::vector<std::string> gone, std::vector<std::string> alive, micros now, done_fn done) {
  housekeeping_report r;
  run_guarded("housekeeping failed (tried again at the next pass)", [&] {
    auto retention = static_cast<micros>(cfg_.retention_days * 24 * 3600 * 1e6);
    r.retention = apply_retention(gone, alive, now, now - retention);
    r.size_cap = enforce_size_cap(cfg_.max_cache_size_bytes);
    // Over the cap, enforce_size_cap has vacuumed already.
    r.vacuumed = r.size_cap.over_cap || vacuum_if_worthwhile(now, false);
    r.analyzed = analyze_if_due(now, r.vacuumed);
    r.file_bytes = storage_usage().file_bytes();
    if (r.retention.fingerprints_purged || r.retention.marketplace_purged)
      BOOST_LOG_TRIVIAL(info) << "retention: " << r.retention.fingerprints_purged << " fingerprints and "
                              << r.retention.marketplace_purged << " marketplace rows older than "
                              << cfg_.retention_days << " days purged";
  }, /*unexpected=*/false);
  if (done) done(r);
}

compact_outcome upkeep::compact() {
  compact_outcome out;
  out.before_bytes = db_.db_bytes();
  auto t0 = std::chrono::steady_clock::now();
  try {
    vacuum_if_worthwhile(now_micros(), true);
    analyze_if_due(now_micros(), true);
    out.success = true;
  } catch (const db::db_error& e) {
    out.error = db::describe_failure(e.sqlite_code());
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  out.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.after_bytes = db_.db_bytes();
  return out;
}

}  // namespace projcache::cache
