#pragma once
// RefreshJob: keeps the cache fresh. Scans run on a small low-priority thread pool; their
// results are applied on the write strand, which also owns all the job's state. At most
// max_concurrent_refreshes scans run at once; a failing attempt that may pass is retried with
// backoff, a malformed file fails at once; each attempt has a timeout.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/executors.hpp"
#include "cache/scan_caches.hpp"
#include "cache/store.hpp"
#include "cache/queries.hpp"
#include "cache/refresh_types.hpp"
#include "events/event.hpp"

namespace projcache::events {
class bus;
}

namespace projcache::cache {

class database;
class read_model;
class upkeep;

class refresh_job {
 public:
  using done_fn = std::function<void(refresh_result)>;

  // What it works with, owned by the service: it writes through the store, reads the read
  // model, scans with the scan caches, leaves the WAL to upkeep and asks the database whether it
  // takes writes.
  struct parts {
    executors& ex;
    cache::store& store;
    const read_model& reads;
    scan_caches& caches;
    cache::upkeep& upkeep;
    const database& db;
  };
  // Its events go to `bus`, each after the snapshot holding its rows.
  refresh_job(parts p, events::bus& bus);
  ~refresh_job();

  // The first full refresh, then one every refresh_interval_hours when background refresh is on.
  void start();
  // Cancels timers; scans still running are abandoned without writing.
  void stop();

  // The project must exist (callers answer 404 first). Not stale and not forced: nothing to do.
  void refresh_project(const std::string& id, bool force, done_fn done);
  // Rescans the search roots (adding and removing projects), then refreshes every stale
  // project (every project when forced).
  void refresh_all(bool force, done_fn done);
  // A change on disk: invalidate the project and refresh it now (the watcher calls this).
  void project_changed(const std::string& id);
  // Something under a search root changed: look for new and vanished projects; `after` runs
  // on the write strand once they are reconciled.
  void rescan(std::function<void()> after = nullptr);
  // Registers a project folder (persisted: it outlives a restart) and refreshes it. The
  // folder must hold a profile root with a deployment file. done runs on the write strand.
  void register_project(std::filesystem::path path, std::function<void(register_outcome)> done);
  // Empties the cache (every project gets project_removed), then with `rescan` finds and
  // refreshes all again (SkillMeat's POST /projects/cache/clear). Registered projects stay
  // registered. done gets nothing when the store could not be emptied (the cache is then
  // unchanged).
  void clear(bool rescan, std::function<void(std::optional<refresh_result>)> done);
  // Forgets a project registered that way; it leaves the cache unless discovery still finds it.
  void forget_project(const std::string& id, std::function<void(forget_outcome)> done);

  refresh_schedule schedule() const;
  refresh_counters counters() const;
  bool ready() const { return ready_.load(); }
  int max_concurrency_seen() const { return max_seen_.load(); }
  // Called on the write strand after each full refresh (the watcher re-reads its watch set).
  void set_on_full_refresh(std::function<void()> f) { on_full_refresh_ = std::move(f); }
  // Test seam: runs on the worker before each scan attempt (path, attempt number); what it
  // throws fails the attempt as an I/O error would. Set before start().
  void set_scan_fault(std::function<void(const std::string&, int)> f) { scan_fault_ = std::move(f); }
  // No scan queued, running or waiting for a retry (read on the write strand).
  bool idle() const { return jobs_.empty(); }

 private:
  struct job;
  // A project already being scanned is scanned once more after it (its files may have changed
  // since the scan began) unless `again_if_running` is false: a refresh asked for only because
  // the project is stale is answered by the scan that is running.
  void enqueue(const std::string& id, const std::string& path, std::shared_ptr<collection_memo> memo,
               done_fn done, bool again_if_running = true);
  void pump();
  void start_queued();  // as many queued scans as may run
  void start_attempt(job& j);
  void on_scan_done(const std::string& id, std::uint64_t token, project_scan scan);
  // Writes every scan waiting in to_write_ in one transaction, then answers each.
  void write_scanned();
  void written(const std::string& id, apply_outcome outcome, double write_ms, std::size_t batch);
  void attempt_failed(job& j, const std::string& message, bool retryable);
  void finish(const std::string& id, refresh_result r);
  // Forgets a project's job (its scan's result, if any, is dropped); waiters get `why`.
  void abandon(const std::string& id, const std::string& why);
  void reconcile(std::vector<std::filesystem::path> found);
  // Adds a found project not cached yet, with its project_added event; false when known.
  bool add_found(const std::filesystem::path& path);
  void schedule_tick();
  void arm_store_probe();
  // Scans projects whether stale or not (the start-up check of what the last run cached).
  void verify_cached(const std::vector<std::string>& ids);
  void run_batch(std::vector<project_ptr> targets, std::chrono::steady_clock::time_point t0, done_fn done);
  void record_progress(std::size_t done, std::size_t total, bool finished);
  // Publishing (refresh_publish.cpp). `f` runs once the snapshot holding every write staged so
  // far is out: a project's events and a refresh's answer never arrive before its rows.
  void after_publish(std::function<void()> f);
  void emit(events::event e);
  // Publishes now when the queue has drained; otherwise at most every few milliseconds (spaced
  // by the cost of the last publish), so a refresh of N projects publishes O(N) in all.
  void request_publish();
  void publish_now();

  cache::store& store_;
  const read_model& reads_;
  scan_caches& caches_;
  cache::upkeep& upkeep_;
  const database& db_;
  events::bus& bus_;
  strand_type& strand_;
  boost::asio::thread_pool& pool_;
  boost::asio::steady_timer tick_;
  boost::asio::steady_timer probe_;  // while the store refuses writes
  bool probe_armed_ = false;
  std::set<std::string> store_failed_;  // projects whose refresh failed for the store
  std::map<std::string, std::unique_ptr<job>> jobs_;
  std::deque<std::string> queue_;
  struct scanned {
    std::string id;
    std::uint64_t token;
    project_scan scan;
  };
  std::vector<scanned> to_write_;  // scans done, waiting for write_scanned
  int in_flight_ = 0;
  std::atomic<int> max_seen_{0};
  std::uint64_t next_token_ = 1;
  std::atomic<bool> ready_{false}, stopped_{false}, running_{false};
  std::atomic<bool> cancel_all_{false};  // stops every scan's hashing (stop(), from any thread)
  mutable std::mutex sched_mu_;
  refresh_schedule sched_;
  refresh_counters counters_;  // under sched_mu_
  boost::asio::steady_timer publish_timer_;
  bool publish_armed_ = false, draining_ = false;
  std::chrono::steady_clock::time_point next_publish_{};
  std::deque<std::function<void()>> after_publish_;
  std::function<void()> on_full_refresh_;
  std::function<void(const std::string&, int)> scan_fault_;
};

}  // namespace projcache::cache
