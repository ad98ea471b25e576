#include "cache/housekeeping.hpp"

#include <sys/stat.h>

#include <boost/asio/post.hpp>
#include <boost/log/trivial.hpp>

#include "cache/refresh.hpp"
#include "common/unexpected.hpp"

namespace asio = boost::asio;

namespace projcache::cache {

template <class F>
auto housekeeper::guarded(F f) {
  return [g = guard_, f = std::move(f)](auto&&... args) mutable {
    std::lock_guard lk(g->mu);
    if (!g->dead) f(std::forward<decltype(args)>(args)...);
  };
}

housekeeper::housekeeper(manager& m, refresh_job& job, clock_fn clock)
    : mgr_(m), job_(job), clock_(std::move(clock)), timer_(job.write_strand()) {}

housekeeper::~housekeeper() {
  stopped_ = true;
  std::lock_guard lk(guard_->mu);
  guard_->dead = true;
}

void housekeeper::start(std::chrono::milliseconds first, std::chrono::milliseconds period) {
  period_ = period;
  asio::post(job_.write_strand(), guarded([this, first] {
               timer_.expires_after(first);
               timer_.async_wait(guarded([this](boost::system::error_code ec) {
                 if (!ec && !stopped_) run_once([this](housekeeping_report) { schedule(); });
               }));
             }));
}

void housekeeper::schedule() {
  if (stopped_) return;
  timer_.expires_after(period_);
  timer_.async_wait(guarded([this](boost::system::error_code ec) {
    if (!ec && !stopped_) run_once([this](housekeeping_report) { schedule(); });
  }));
}

void housekeeper::stop() {
  if (stopped_.exchange(true)) return;
  asio::post(job_.write_strand(), guarded([this] { timer_.cancel(); }));
}

void housekeeper::run_once(done_fn done) {
  asio::post(job_.write_strand(), guarded([this, done = std::move(done)]() mutable {
    micros now = clock_();
    auto retention = static_cast<micros>(mgr_.config().retention_days * 24 * 3600 * 1e6);
    auto candidates = mgr_.fingerprints_seen_before(now - retention);
    // Only fingerprints not seen for a whole retention period are looked at; lstat says
    // whether their path is still there (then it is kept and marked seen).
    asio::post(job_.background_pool(), guarded([this, now, candidates = std::move(candidates),
                                                done = std::move(done)]() mutable {
      std::vector<std::string> gone, alive;
      for (auto& p : candidates) {
        struct stat st;
        (::lstat(p.c_str(), &st) == 0 ? alive : gone).push_back(std::move(p));
      }
      asio::post(job_.write_strand(), guarded([this, gone = std::move(gone), alive = std::move(alive), now,
                                               done = std::move(done)]() mutable {
        finish(std::move(gone), std::move(alive), now, std::move(done));
      }));
    }));
  }));
}

void housekeeper::finish(std::vector<std::string> gone, std::vector<std::string> alive, micros now, done_fn done) {
  housekeeping_report r;
  run_guarded("housekeeping failed (tried again at the next pass)", [&] {
    auto retention = static_cast<micros>(mgr_.config().retention_days * 24 * 3600 * 1e6);
    r.retention = mgr_.apply_retention(gone, alive, now, now - retention);
    r.size_cap = mgr_.enforce_size_cap(mgr_.config().max_cache_size_bytes);
    // Over the cap, enforce_size_cap has vacuumed already.
    r.vacuumed = r.size_cap.over_cap || mgr_.vacuum_if_worthwhile(now, false);
    r.analyzed = mgr_.analyze_if_due(now, r.vacuumed);
    r.file_bytes = mgr_.storage_usage().file_bytes();
    if (r.retention.fingerprints_purged || r.retention.marketplace_purged)
      BOOST_LOG_TRIVIAL(info) << "retention: " << r.retention.fingerprints_purged << " fingerprints and "
                              << r.retention.marketplace_purged << " marketplace rows older than "
                              << mgr_.config().retention_days << " days purged";
  }, /*unexpected=*/false);
  if (done) done(r);
}

}  // namespace projcache::cache
