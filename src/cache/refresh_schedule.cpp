// The refresh job's schedule: the first full refresh, the periodic tick, discovery of new and
// vanished projects, and refresh_all over them. The queue and attempts are in refresh.cpp.
#include <boost/asio/post.hpp>
#include <boost/log/trivial.hpp>
#include <set>

#include "cache/database.hpp"
#include "cache/discovery.hpp"
#include "cache/read_model.hpp"
#include "cache/refresh.hpp"
#include "cache/refresh_internal.hpp"
#include "cache/upkeep.hpp"
#include "common/paths.hpp"
#include "events/bus.hpp"

namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace projcache::cache {

void refresh_job::start() {
  bool background = store_.config().enable_background_refresh;
  running_ = background;
  {
    std::lock_guard lk(sched_mu_);
    sched_.is_running = background;
  }
  // Projects still fresh from the last run are not looked at by the first pass, so an edit made
  // while the server was down would stay hidden until their TTL ran out: verify them against
  // the disk right after it (the stat fingerprints make an unchanged one almost free).
  std::vector<std::string> fresh_at_start;
  micros now = now_micros();
  auto snap = reads_.current();
  for (auto& [id, p] : snap->projects)
    if (!reads_.is_stale(*p, now)) fresh_at_start.push_back(id);
  refresh_all(false, [this, fresh = std::move(fresh_at_start)](refresh_result r) {
    verify_cached(fresh);  // first: once ready, refresh_progress shows this pass
    ready_ = true;
    if (auto& c = db_.corruption()) {
      emit(events::cache_rebuilt(c->first, c->second, reads_.current()->projects.size(), r.changes_detected));
      BOOST_LOG_TRIVIAL(warning) << "cache rebuilt from disk after corruption ("
                                 << reads_.current()->projects.size() << " projects)";
    }
  });
  if (background) asio::post(strand_, [this] { schedule_tick(); });
}

void refresh_job::verify_cached(const std::vector<std::string>& ids) {
  if (ids.empty() || stopped_) return;
  BOOST_LOG_TRIVIAL(info) << "verifying " << ids.size() << " cached project(s) against the disk";
  std::vector<project_ptr> targets;
  for (auto& id : ids)
    if (auto p = store_.latest(id)) targets.push_back(std::move(p));
  {
    std::lock_guard lk(sched_mu_);
    sched_.full_refresh_running = true;  // a client waiting for a quiet cache sees this pass too
  }
  run_batch(std::move(targets), std::chrono::steady_clock::now(), nullptr);
}

void refresh_job::stop() {
  if (stopped_.exchange(true)) return;
  cancel_all_ = true;  // running scans stop at their next read, so the pool can be joined at once
  running_ = false;
  asio::post(strand_, [this] {
    tick_.cancel();
    probe_.cancel();
    publish_timer_.cancel();
    for (auto& [_, j] : jobs_) j->timer.cancel();
  });
  std::lock_guard lk(sched_mu_);
  sched_.is_running = false;
  sched_.next_run_time.reset();
}

void refresh_job::schedule_tick() {
  if (stopped_) return;
  auto interval = std::chrono::duration<double, std::ratio<3600>>(store_.config().refresh_interval_hours);
  auto d = std::chrono::duration_cast<std::chrono::microseconds>(interval);
  {
    std::lock_guard lk(sched_mu_);
    sched_.next_run_time = now_micros() + d.count();
  }
  tick_.expires_after(d);
  tick_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    refresh_all(false, nullptr);
    schedule_tick();
  });
}

refresh_counters refresh_job::counters() const {
  std::lock_guard lk(sched_mu_);
  return counters_;
}

refresh_schedule refresh_job::schedule() const {
  std::lock_guard lk(sched_mu_);
  return sched_;
}

void refresh_job::rescan(std::function<void()> after) {
  if (stopped_) {
    if (after) asio::post(strand_, std::move(after));
    return;
  }
  auto cfg = store_.config();
  asio::post(pool_, [this, cfg, explicit_projects = store_.explicit_projects(), after = std::move(after)]() mutable {
    platform::lower_thread_priority();
    auto found = discover_projects(cfg.search_roots, explicit_projects, cfg.discovery_depth);
    asio::post(strand_, [this, found = std::move(found), after = std::move(after)]() mutable {
      store_.publish();
      auto before = reads_.current();
      reconcile(std::move(found));
      // New projects are refreshed at once.
      auto after_reconcile = reads_.current();
      for (auto& [id, p] : after_reconcile->projects)
        if (!before->projects.count(id)) enqueue(id, p->row.path, std::make_shared<collection_memo>(), nullptr);
      if (on_full_refresh_) on_full_refresh_();
      if (after) after_publish(std::move(after));
    });
  });
}

bool refresh_job::add_found(const fs::path& path) {
  if (!store_.add_project(path)) return false;
  emit(events::project_added(project_id_of(path), path.string()));
  return true;
}

// One batch: every project added and removed goes out in one snapshot, then their events.
void refresh_job::reconcile(std::vector<fs::path> found) {
  store_.publish();
  std::vector<events::event> raised;
  std::set<std::string> found_ids;
  for (auto& path : found) {
    auto id = project_id_of(path);
    found_ids.insert(id);
    if (store_.add_project(path)) raised.push_back(events::project_added(id, path.string()));
  }
  auto snap = reads_.current();  // held: a publish while abandoning replaces the current one
  for (auto& [id, p] : snap->projects) {
    if (found_ids.count(id)) continue;
    // A refresh queued for it (the watcher saw its files go) would only fail: drop it.
    abandon(id, "project '" + id + "' was removed");
    store_.remove_project(id);
    raised.push_back(events::project_removed(id, p->row.path));
  }
  store_.publish();
  for (auto& e : raised) emit(std::move(e));
}

void refresh_job::clear(bool rescan, std::function<void(std::optional<refresh_result>)> done) {
  asio::post(strand_, [this, rescan, done = std::move(done)]() mutable {
    store_.publish();
    auto snap = reads_.current();
    try {
      store_.clear();
    } catch (const std::exception& e) {
      BOOST_LOG_TRIVIAL(warning) << "cannot clear the cache: " << e.what();
      return done(std::nullopt);
    }
    for (auto& [id, p] : snap->projects) {
      abandon(id, "the cache was cleared");
      emit(events::project_removed(id, p->row.path));
    }
    if (!rescan) return after_publish([done = std::move(done)] { done(refresh_result{}); });
    refresh_all(false, [done = std::move(done)](refresh_result r) { done(std::move(r)); });
  });
}

void refresh_job::refresh_all(bool force, done_fn done) {
  auto cfg = store_.config();
  auto t0 = std::chrono::steady_clock::now();
  {
    std::lock_guard lk(sched_mu_);
    sched_.full_refresh_running = true;
    sched_.last_run_time = now_micros();
  }
  asio::post(pool_, [this, cfg, explicit_projects = store_.explicit_projects(), force, t0, done = std::move(done)]() mutable {
    platform::lower_thread_priority();
    auto found = discover_projects(cfg.search_roots, explicit_projects, cfg.discovery_depth);
    asio::post(strand_, [this, found = std::move(found), force, t0, done = std::move(done)]() mutable {
      reconcile(std::move(found));
      if (on_full_refresh_) on_full_refresh_();
      micros now = now_micros();
      std::vector<project_ptr> targets;
      auto snap = reads_.current();
      for (auto& [id, p] : snap->projects)
        if (force || reads_.is_stale(*p, now)) targets.push_back(p);
      run_batch(std::move(targets), t0, std::move(done));
    });
  });
}

// The projects of one full pass (a refresh_all's, or the start's verification of the cached
// ones): refreshed through the queue, counted in refresh_progress, their transient memory given
// back at the end, and done called once with everything they found.
void refresh_job::run_batch(std::vector<project_ptr> targets, std::chrono::steady_clock::time_point t0, done_fn done) {
  struct batch {
    std::size_t remaining, total;
    refresh_result result;
    done_fn done;
    std::chrono::steady_clock::time_point t0;
  };
  auto b = std::make_shared<batch>(batch{targets.size(), targets.size(), {}, std::move(done), t0});
  auto finish_batch = [this](batch& bt) {
    bt.result.duration_seconds = detail::ms_since(bt.t0) / 1000.0;
    record_progress(bt.total, bt.total, true);
    // A refresh that scanned freed its transient buffers (listings, file reads, parsed
    // TOML) among the rows that stay: give those pages back, so a server that did a cold
    // scan keeps no more than one that loaded the same rows at start.
    if (bt.total > 0) platform::release_free_memory();
    {
      std::lock_guard lk(sched_mu_);
      sched_.full_refresh_running = false;  // last: not running means settled
    }
    if (bt.done) bt.done(std::move(bt.result));
  };
  {
    std::lock_guard lk(sched_mu_);
    sched_.progress_done = 0;
    sched_.progress_total = static_cast<std::int64_t>(targets.size());
  }
  record_progress(0, targets.size(), false);
  if (targets.empty()) {
    finish_batch(*b);
    return;
  }
  auto memo = std::make_shared<collection_memo>();
  for (auto& p : targets) {
    enqueue(p->row.id, p->row.path, memo, [this, b, finish_batch](refresh_result r) {
      b->result.success = b->result.success && r.success;
      b->result.projects_refreshed += r.projects_refreshed;
      b->result.changes_detected = b->result.changes_detected || r.changes_detected;
      for (auto& e : r.errors) b->result.errors.push_back(std::move(e));
      {
        std::lock_guard lk(sched_mu_);
        ++sched_.progress_done;
      }
      if (--b->remaining == 0) {
        finish_batch(*b);
      } else if ((b->total - b->remaining) % 50 == 0) {
        record_progress(b->total - b->remaining, b->total, false);
      }
    });
  }
}

// Progress survives in cache_metadata, so SkillMeat's own reader sees it too (one small write
// every 50 projects; the status route reads the in-memory copy).
void refresh_job::record_progress(std::size_t done, std::size_t total, bool finished) {
  // A store that refuses writes records that itself; progress is also kept in memory.
  if (done == 0 && !finished) store_.set_meta("last_full_refresh_start", format_api_time(now_micros()));
  store_.set_meta("full_refresh_projects_done", std::to_string(done));
  store_.set_meta("full_refresh_projects_total", std::to_string(total));
  if (finished) store_.set_meta("last_full_refresh_end", format_api_time(now_micros()));
}

}  // namespace projcache::cache
