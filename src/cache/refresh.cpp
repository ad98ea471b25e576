#include "cache/refresh.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/log/trivial.hpp>
#include <chrono>
#include <cmath>
#include <set>

#include "cache/discovery.hpp"
#include "cache/util.hpp"
#include "db/error.hpp"
#include "events/bus.hpp"

namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace projcache::cache {

namespace {
constexpr int max_attempts = 3;

// Background scanning must not slow the user's build: lowest CPU and idle I/O priority.
void lower_thread_priority() {
  thread_local bool done = false;
  if (done) return;
  done = true;
  auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  ::setpriority(PRIO_PROCESS, tid, 19);
  constexpr int ioprio_class_idle = 3, ioprio_who_process = 1, ioprio_class_shift = 13;
  ::syscall(SYS_ioprio_set, ioprio_who_process, static_cast<int>(tid), ioprio_class_idle << ioprio_class_shift);
}

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

struct refresh_job::job {
  job(strand_type& s) : timer(s) {}
  std::string id, path;
  int attempt = 0;
  bool running = false;
  bool rerun = false;
  std::uint64_t token = 0;
  std::vector<done_fn> waiters, next_waiters;
  std::shared_ptr<collection_memo> memo;
  asio::steady_timer timer;
  std::chrono::steady_clock::time_point started;
};

refresh_job::refresh_job(asio::io_context& ioc, manager& m)
    : ioc_(ioc),
      mgr_(m),
      strand_(asio::make_strand(ioc)),
      pool_(static_cast<std::size_t>(std::max(1, m.config().scan_threads))),
      tick_(strand_) {
  mgr_.set_on_stale_read([this](const std::string& id) { refresh_project(id, false, nullptr); });
}

refresh_job::~refresh_job() {
  stop();
  pool_.join();
}

void refresh_job::start() {
  bool background = mgr_.config().enable_background_refresh;
  running_ = background;
  {
    std::lock_guard lk(sched_mu_);
    sched_.is_running = background;
  }
  refresh_all(false, [this](refresh_result r) {
    ready_ = true;
    if (auto c = mgr_.corruption()) {
      events::event e;
      e.type = events::event_type::cache_rebuilt;
      e.changes_detected = r.changes_detected;
      e.extra = {{"moved_aside", c->first}, {"reason", c->second},
                 {"projects", std::to_string(mgr_.current()->projects.size())}};
      mgr_.bus().publish(e);
      BOOST_LOG_TRIVIAL(warning) << "cache rebuilt from disk after corruption ("
                                 << mgr_.current()->projects.size() << " projects)";
    }
  });
  if (background) asio::post(strand_, [this] { schedule_tick(); });
}

void refresh_job::stop() {
  if (stopped_.exchange(true)) return;
  running_ = false;
  asio::post(strand_, [this] {
    tick_.cancel();
    for (auto& [_, j] : jobs_) j->timer.cancel();
  });
  std::lock_guard lk(sched_mu_);
  sched_.is_running = false;
  sched_.next_run_time.reset();
}

void refresh_job::schedule_tick() {
  if (stopped_) return;
  auto interval = std::chrono::duration<double, std::ratio<3600>>(mgr_.config().refresh_interval_hours);
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

void refresh_job::refresh_project(const std::string& id, bool force, done_fn done) {
  asio::post(strand_, [this, id, force, done = std::move(done)]() mutable {
    auto p = mgr_.project(id);
    if (!p) {
      refresh_result r;
      r.success = false;
      r.errors.push_back("Project '" + id + "' not found");
      if (done) done(std::move(r));
      return;
    }
    if (!force && !mgr_.is_stale(*p, now_micros()) && p->row.status != "error") {
      if (done) done(refresh_result{});
      return;
    }
    enqueue(id, p->row.path, std::make_shared<collection_memo>(), std::move(done));
  });
}

void refresh_job::project_changed(const std::string& id) {
  asio::post(strand_, [this, id] {
    auto p = mgr_.project(id);
    if (!p || stopped_) return;
    mgr_.invalidate(id);
    enqueue(id, p->row.path, std::make_shared<collection_memo>(), nullptr);
  });
}

void refresh_job::rescan() {
  if (stopped_) return;
  auto cfg = mgr_.config();
  asio::post(pool_, [this, cfg] {
    lower_thread_priority();
    auto found = discover_projects(cfg.search_roots, cfg.explicit_projects, cfg.discovery_depth);
    asio::post(strand_, [this, found = std::move(found)]() mutable {
      auto before = mgr_.current();
      reconcile(std::move(found));
      // New projects are refreshed at once.
      auto after = mgr_.current();
      for (auto& [id, p] : after->projects)
        if (!before->projects.count(id)) enqueue(id, p->row.path, std::make_shared<collection_memo>(), nullptr);
      if (on_full_refresh_) on_full_refresh_();
    });
  });
}

void refresh_job::reconcile(std::vector<fs::path> found) {
  std::set<std::string> found_ids;
  for (auto& path : found) {
    found_ids.insert(project_id_of(path));
    if (mgr_.add_project(path)) {
      events::event e;
      e.type = events::event_type::project_added;
      e.project_id = project_id_of(path);
      e.changes_detected = true;
      e.extra = {{"path", path.string()}};
      mgr_.bus().publish(e);
    }
  }
  auto snap = mgr_.current();  // held: remove_project replaces the current snapshot
  for (auto& [id, p] : snap->projects) {
    if (found_ids.count(id) || jobs_.count(id)) continue;
    std::string path = p->row.path;
    mgr_.remove_project(id);
    events::event e;
    e.type = events::event_type::project_removed;
    e.project_id = id;
    e.changes_detected = true;
    e.extra = {{"path", path}};
    mgr_.bus().publish(e);
  }
}

void refresh_job::refresh_all(bool force, done_fn done) {
  auto cfg = mgr_.config();
  auto t0 = std::chrono::steady_clock::now();
  {
    std::lock_guard lk(sched_mu_);
    sched_.full_refresh_running = true;
    sched_.last_run_time = now_micros();
  }
  asio::post(pool_, [this, cfg, force, t0, done = std::move(done)]() mutable {
    lower_thread_priority();
    auto found = discover_projects(cfg.search_roots, cfg.explicit_projects, cfg.discovery_depth);
    asio::post(strand_, [this, found = std::move(found), force, t0, done = std::move(done)]() mutable {
      reconcile(std::move(found));
      if (on_full_refresh_) on_full_refresh_();
      micros now = now_micros();
      std::vector<project_ptr> targets;
      auto snap = mgr_.current();
      for (auto& [id, p] : snap->projects)
        if (force || mgr_.is_stale(*p, now)) targets.push_back(p);

      struct batch {
        std::size_t remaining;
        refresh_result result;
        done_fn done;
        std::chrono::steady_clock::time_point t0;
      };
      auto b = std::make_shared<batch>(batch{targets.size(), {}, std::move(done), t0});
      auto finish_batch = [this](batch& bt) {
        bt.result.duration_seconds = ms_since(bt.t0) / 1000.0;
        {
          std::lock_guard lk(sched_mu_);
          sched_.full_refresh_running = false;
        }
        mgr_.set_meta("last_full_refresh_end", format_api_time(now_micros()));
        if (bt.done) bt.done(std::move(bt.result));
      };
      {
        std::lock_guard lk(sched_mu_);
        sched_.progress_done = 0;
        sched_.progress_total = static_cast<std::int64_t>(targets.size());
      }
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
          if (--b->remaining == 0) finish_batch(*b);
        });
      }
    });
  });
}

void refresh_job::enqueue(const std::string& id, const std::string& path,
                          std::shared_ptr<collection_memo> memo, done_fn done) {
  if (stopped_) {
    if (done) {
      refresh_result r;
      r.success = false;
      r.errors.push_back("server is stopping");
      done(std::move(r));
    }
    return;
  }
  auto it = jobs_.find(id);
  if (it != jobs_.end()) {
    auto& j = *it->second;
    if (j.running) {  // files may have changed after the scan began: run once more after it
      j.rerun = true;
      if (done) j.next_waiters.push_back(std::move(done));
    } else if (done) {
      j.waiters.push_back(std::move(done));
    }
    return;
  }
  auto j = std::make_unique<job>(strand_);
  j->id = id;
  j->path = path;
  j->memo = std::move(memo);
  if (done) j->waiters.push_back(std::move(done));
  jobs_.emplace(id, std::move(j));
  queue_.push_back(id);
  pump();
}

void refresh_job::pump() {
  while (in_flight_ < std::max(1, mgr_.config().max_concurrent_refreshes) && !queue_.empty()) {
    auto id = queue_.front();
    queue_.pop_front();
    auto it = jobs_.find(id);
    if (it != jobs_.end()) start_attempt(*it->second);
  }
}

void refresh_job::start_attempt(job& j) {
  j.running = true;
  ++j.attempt;
  ++in_flight_;
  int seen = max_seen_.load();
  while (in_flight_ > seen && !max_seen_.compare_exchange_weak(seen, in_flight_)) {
  }
  j.token = next_token_++;
  if (j.attempt == 1) {
    j.started = std::chrono::steady_clock::now();
    publish(static_cast<int>(events::event_type::refresh_started), j.id, nullptr, nullptr, 0);
  }
  auto timeout = std::chrono::duration<double>(mgr_.config().refresh_timeout_seconds);
  j.timer.expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
  j.timer.async_wait([this, id = j.id, token = j.token](boost::system::error_code ec) {
    if (ec) return;
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second->token != token || !it->second->running) return;
    auto& jj = *it->second;
    jj.token = 0;  // the scan's result, if it ever comes, is dropped
    --in_flight_;
    attempt_failed(jj, "refresh timed out after " +
                           std::to_string(static_cast<int>(mgr_.config().refresh_timeout_seconds)) + " s",
                   true);
    pump();
  });

  auto entry = mgr_.project(j.id);
  asio::post(pool_, [this, id = j.id, path = j.path, token = j.token, memo = j.memo, entry, attempt = j.attempt] {
    lower_thread_priority();
    previous_rows prev;
    if (entry)
      for (auto& a : entry->artifacts) prev.emplace(a->id, a.get());
    project_scan scan;
    bool retryable = false;
    try {
      if (scan_fault_) scan_fault_(path, attempt);
      scan_context ctx{mgr_.collections(), mgr_.hasher(), *memo};
      scan = scan_project(fs::path(path), ctx, prev);
      if (scan.error) retryable = scan.error->retryable;
      std::error_code ec;
      if (!scan.error && !fs::is_directory(path, ec)) {
        scan.error = read_error{path, 0, "project folder is gone", false};
      }
    } catch (const std::exception& e) {
      scan.id = id;
      scan.error = read_error{path, 0, e.what(), true};
      retryable = true;
    }
    asio::post(strand_, [this, id, token, scan = std::move(scan), retryable]() mutable {
      on_scan_done(id, token, std::move(scan), retryable);
    });
  });
}

void refresh_job::on_scan_done(const std::string& id, std::uint64_t token, project_scan scan,
                               bool retryable) {
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second->token != token || !it->second->running) return;
  auto& j = *it->second;
  j.timer.cancel();
  --in_flight_;
  if (scan.error) {
    attempt_failed(j, scan.error->text(), retryable);
  } else {
    try {
      auto outcome = mgr_.apply_scan(scan);
      refresh_result r;
      r.projects_refreshed = 1;
      r.changes_detected = outcome.changed;
      r.duration_seconds = ms_since(j.started) / 1000.0;
      if (outcome.changed)
        publish(static_cast<int>(events::event_type::changes_detected), id, &r, &outcome, ms_since(j.started));
      publish(static_cast<int>(events::event_type::refresh_completed), id, &r, &outcome, ms_since(j.started));
      finish(id, std::move(r));
    } catch (const db::db_error& e) {
      BOOST_LOG_TRIVIAL(warning) << "writing project " << id << " failed: " << e.what();
      attempt_failed(j, std::string("database: ") + e.what(), true);
    }
  }
  pump();
}

void refresh_job::attempt_failed(job& j, const std::string& message, bool retryable) {
  j.running = false;
  if (retryable && j.attempt < max_attempts && !stopped_) {
    {
      std::lock_guard lk(sched_mu_);
      ++counters_.retries;
    }
    double delay = mgr_.config().retry_base_seconds * std::pow(2.0, j.attempt - 1);
    BOOST_LOG_TRIVIAL(info) << "refresh of " << j.path << " failed (attempt " << j.attempt
                            << "), retrying in " << delay << " s: " << message;
    j.timer.expires_after(std::chrono::milliseconds(static_cast<long>(delay * 1000)));
    j.timer.async_wait([this, id = j.id](boost::system::error_code ec) {
      if (ec || stopped_) return;
      if (jobs_.count(id)) {
        queue_.push_back(id);
        pump();
      }
    });
    return;
  }
  BOOST_LOG_TRIVIAL(warning) << "refresh of " << j.path << " failed: " << message;
  try {
    mgr_.mark_error(j.id, j.path, message);
  } catch (const std::exception& e) {
    BOOST_LOG_TRIVIAL(error) << "cannot record the error of " << j.id << ": " << e.what();
  }
  refresh_result r;
  r.success = false;
  r.errors.push_back(message);
  r.duration_seconds = ms_since(j.started) / 1000.0;
  events::event e;
  e.type = events::event_type::refresh_error;
  e.project_id = j.id;
  e.error = message;
  e.duration_ms = ms_since(j.started);
  mgr_.bus().publish(e);
  finish(j.id, std::move(r));
}

void refresh_job::finish(const std::string& id, refresh_result r) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  auto j = std::move(it->second);
  jobs_.erase(it);
  {
    std::lock_guard lk(sched_mu_);
    ++(r.success ? counters_.completed : counters_.failed);
    counters_.duration_seconds_sum += r.duration_seconds;
  }
  for (auto& w : j->waiters) w(r);
  if (j->rerun && !stopped_) {
    auto waiters = std::move(j->next_waiters);
    enqueue(id, j->path, std::make_shared<collection_memo>(), nullptr);
    auto& nj = *jobs_.at(id);
    for (auto& w : waiters) nj.waiters.push_back(std::move(w));
  } else {
    for (auto& w : j->next_waiters) w(r);
  }
}

void refresh_job::publish(int type, const std::string& project_id, const refresh_result* r,
                          const apply_outcome* o, double duration_ms) {
  events::event e;
  e.type = static_cast<events::event_type>(type);
  e.project_id = project_id;
  if (r) e.changes_detected = r->changes_detected;
  if (o) {
    e.added = o->added;
    e.removed = o->removed;
    e.changed = o->changed_ids;
  }
  if (r) e.duration_ms = duration_ms;
  mgr_.bus().publish(e);
}

}  // namespace projcache::cache
