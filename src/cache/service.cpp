#include "cache/service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/log/trivial.hpp>
#include <chrono>
#include <utility>

#include "cache/database.hpp"
#include "cache/executors.hpp"
#include "cache/marketplace.hpp"
#include "cache/read_model.hpp"
#include "cache/refresh.hpp"
#include "cache/scan_caches.hpp"
#include "cache/store.hpp"
#include "cache/upkeep.hpp"
#include "cache/watcher.hpp"
#include "db/error.hpp"
#include "db/store.hpp"

namespace asio = boost::asio;

namespace projcache::cache {

service::service(asio::io_context& ioc, settings s, events::bus& bus, http_get_fn get)
    : ex_(std::make_unique<executors>(ioc, s.scan_threads)),
      reads_(std::make_unique<read_model>(s)),
      caches_(std::make_unique<scan_caches>(s.home)),
      db_(std::make_unique<database>(s)),
      store_(std::make_unique<cache::store>(std::move(s), *db_, *reads_, caches_->fingerprints)),
      upkeep_(std::make_unique<cache::upkeep>(store_->config(), *db_, *reads_, caches_->fingerprints, *ex_)),
      job_(std::make_unique<refresh_job>(refresh_job::parts{*ex_, *store_, *reads_, *caches_, *upkeep_, *db_}, bus)),
      watcher_(std::make_unique<cache::watcher>(ioc, store_->config(), *reads_, *job_, bus)),
      market_(std::make_unique<marketplace_fetcher>(ioc, *store_, *reads_, ex_->write_strand, bus, std::move(get))) {
  // Projects came or went: the watcher re-reads what to watch.
  job_->set_on_full_refresh([w = watcher_.get()] { w->resync(); });
}

service::~service() { close(false); }

void service::close(bool keep_rows) {
  if (std::exchange(closed_, true)) return;
  stop();
  ex_->pool.join();  // running scans stop at their next read; none outlives the parts it uses
  // Only a file the check passed (or a new one): a damaged one is not worth a fast start.
  if (keep_rows && writable_) store_->close_keeping_rows();
}

void service::open(integrity_check when) {
  db_->open();
  // The fingerprints are the refresh's, not the reads': they load on the check's thread.
  auto fingerprints = [this](db::connection& c) { store_->load_fingerprints(c); };
  bool wait = when == integrity_check::before_reads;
  if (wait) db_->start_check(fingerprints);  // beside the load: the two overlap
  db_->map_for_load();  // every page is read once: through a map (confirm() ends it)
  try {
    if (store_->load()) BOOST_LOG_TRIVIAL(debug) << "read the rows kept at the last stop";
  } catch (const db::db_error& e) {
    if (!db::is_corruption(e)) throw;
    unreadable_ = e.what();
  }
  if (!wait) db_->start_check(fingerprints);  // after it: the load has every core to itself
  // A file the load could not read is not served: it is swapped before the first read.
  if (wait || unreadable_) {
    confirm(std::exchange(unreadable_, std::nullopt));
    writable_ = true;
  }
}

// Takes the check's finding and swaps a damaged file. No write runs meanwhile: none has
// started (open), or all wait for writable_ (start).
void service::confirm(std::optional<std::string> unreadable) {
  if (!db_->confirm_intact(std::move(unreadable))) {  // the fresh file: nothing yet
    store_->load();
    store_->load_fingerprints(db_->conn());
  }
}

void service::start(const start_options& o) {
  started_ = o;
  if (writable_) return start_parts();
  // The wait for the check, a WAL fold and a swap are blocking file work: on a pool thread
  // (nothing else runs there yet), never an I/O thread. The strand then lets the writes go.
  asio::post(ex_->pool, [this] {
    auto failed = confirm_or_why();
    asio::post(ex_->write_strand, [this, failed = std::move(failed)] {
      if (failed) return cannot_rebuild(*failed);
      writable_ = true;
      start_parts();
      for (auto& write : std::exchange(deferred_, {})) write();
    });
  });
}

std::optional<std::string> service::confirm_or_why() {
  try {
    confirm(std::exchange(unreadable_, std::nullopt));
  } catch (const db::db_error& e) {
    return db::describe_failure(e.sqlite_code());
  } catch (const std::filesystem::filesystem_error& e) {
    return e.code().message();
  } catch (const std::exception& e) {  // ours, e.g. the folder could not be made
    return e.what();
  }
  return std::nullopt;
}

void service::cannot_rebuild(const std::string& cause) {
  auto why = "cannot make a new cache database at " + config().db_path.string() + " after finding the old one damaged (" +
             cause + "); free some disk space or check the folder's permissions, then start projcache again";
  BOOST_LOG_TRIVIAL(error) << why;
  deferred_.clear();  // not run: there is no file to write to
  if (started_.on_fatal) started_.on_fatal(why);
}

void service::start_parts() {
  std::lock_guard lk(run_mu_);
  if (stopped_) return;
  job_->start();
  if (started_.watch) watcher_->start();
  if (started_.marketplace) market_->start();
  // The first pass waits for start-up's refresh to settle; then hourly.
  if (started_.housekeeping) upkeep_->start(std::chrono::minutes(2), std::chrono::hours(1));
}

void service::stop() {
  std::lock_guard lk(run_mu_);
  stopped_ = true;
  job_->stop();
  watcher_->stop();
  market_->stop();
  upkeep_->stop();
}

void service::when_writable(std::function<void()> write) {
  if (writable_) return write();
  asio::post(ex_->write_strand, [this, write = std::move(write)]() mutable {
    if (writable_) return write();
    deferred_.push_back(std::move(write));
  });
}

const settings& service::config() const { return store_->config(); }
snapshot_ptr service::current() const { return reads_->current(); }
project_ptr service::project(const std::string& id) const { return reads_->project(id); }
page<project_ptr> service::list_projects(const project_query& q) const { return reads_->list_projects(q); }
page<artifact_ptr> service::list_artifacts(const artifact_query& q) const { return reads_->list_artifacts(q); }
page<stale_item> service::stale_artifacts(const stale_query& q) const { return reads_->stale_artifacts(q); }
page<search_item> service::search(const search_query& q) const { return reads_->search(q); }

db::page_result<db::marketplace_row> service::marketplace(const std::optional<std::string>& type, std::int64_t skip,
                                                          std::int64_t limit) const {
  return reads_->marketplace(type, skip, limit);
}

void service::note_read(const std::optional<std::string>& project_id) {
  // Before the integrity check's finding nothing is queued: start()'s first refresh reaches
  // every stale project anyway, and reads must not grow the wait list.
  if (reads_->count_read(project_id) && writable_) job_->refresh_project(*project_id, false, nullptr);
}

service_figures service::figures(bool with_file_sizes) const {
  service_figures f;
  f.status = reads_->status();
  f.status.cache_size_bytes = upkeep_->db_bytes_for_status(f.status.generation);
  f.status.store = db_->health();
  f.schedule = job_->schedule();
  f.counters = job_->counters();
  f.watcher = watcher_->state();
  f.watcher_events = watcher_->events_seen();
  f.wal_checkpoints_busy = upkeep_->wal_checkpoints_busy();
  if (with_file_sizes) {
    f.db_bytes = db_->db_bytes();
    f.wal_bytes = db_->wal_bytes();
  }
  return f;
}

bool service::ready() const { return job_->ready(); }

void service::async_refresh(std::optional<std::string> project_id, bool force, done_fn<refresh_result> done) {
  when_writable([this, id = std::move(project_id), force, done = std::move(done)]() mutable {
    if (id) return job_->refresh_project(*id, force, std::move(done));
    if (force && started_.marketplace) market_->fetch_now(nullptr);
    job_->refresh_all(force, std::move(done));
  });
}

void service::async_invalidate(std::optional<std::string> project_id, done_fn<std::int64_t> done) {
  when_writable([this, id = std::move(project_id), done = std::move(done)]() mutable {
    asio::post(ex_->write_strand, [this, id = std::move(id), done = std::move(done)] { done(store_->invalidate(id)); });
  });
}

void service::async_register(std::filesystem::path path, done_fn<register_outcome> done) {
  when_writable([this, path = std::move(path), done = std::move(done)]() mutable {
    job_->register_project(std::move(path), std::move(done));
  });
}

void service::async_forget(std::string project_id, done_fn<forget_outcome> done) {
  when_writable([this, id = std::move(project_id), done = std::move(done)]() mutable {
    job_->forget_project(id, std::move(done));
  });
}

void service::async_clear(bool rescan, done_fn<std::optional<refresh_result>> done) {
  when_writable([this, rescan, done = std::move(done)]() mutable { job_->clear(rescan, std::move(done)); });
}

void service::async_compact(done_fn<compact_outcome> done) {
  when_writable([this, done = std::move(done)]() mutable {
    asio::post(ex_->write_strand, [this, done = std::move(done)] { done(upkeep_->compact()); });
  });
}

service::parts service::internals() {
  return {*ex_, *reads_, *caches_, *db_, *store_, *upkeep_, *job_, *watcher_, *market_};
}

}  // namespace projcache::cache
