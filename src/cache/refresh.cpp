#include "cache/refresh.hpp"

#include <boost/asio/post.hpp>
#include <boost/log/trivial.hpp>
#include <chrono>
#include <cmath>
#include <set>

#include "cache/database.hpp"
#include "cache/read_model.hpp"
#include "cache/refresh_internal.hpp"
#include "cache/upkeep.hpp"
#include "db/error.hpp"
#include "events/bus.hpp"

namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace projcache::cache {

namespace {
constexpr int max_attempts = 3;
}  // namespace


refresh_job::refresh_job(parts p, events::bus& bus)
    : store_(p.store),
      reads_(p.reads),
      caches_(p.caches),
      upkeep_(p.upkeep),
      db_(p.db),
      bus_(bus),
      strand_(p.ex.write_strand),
      pool_(p.ex.pool),
      tick_(strand_),
      probe_(strand_),
      publish_timer_(strand_) {}

refresh_job::~refresh_job() { stop(); }  // the service joins the pool

void refresh_job::refresh_project(const std::string& id, bool force, done_fn done) {
  asio::post(strand_, [this, id, force, done = std::move(done)]() mutable {
    auto p = store_.latest(id);
    if (!p) {
      refresh_result r;
      r.success = false;
      r.errors.push_back("Project '" + id + "' not found");
      if (done) done(std::move(r));
      return;
    }
    if (!force && !reads_.is_stale(*p, now_micros()) && p->row.status != "error") {
      if (done) done(refresh_result{});
      return;
    }
    enqueue(id, p->row.path, std::make_shared<collection_memo>(), std::move(done), force);
  });
}

void refresh_job::project_changed(const std::string& id) {
  asio::post(strand_, [this, id] {
    auto p = store_.latest(id);
    if (!p || stopped_) return;
    store_.invalidate(id);
    enqueue(id, p->row.path, std::make_shared<collection_memo>(), nullptr);
  });
}

void refresh_job::enqueue(const std::string& id, const std::string& path,
                          std::shared_ptr<collection_memo> memo, done_fn done, bool again_if_running) {
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
    if (j.running && again_if_running) {  // files may have changed after the scan began: once more
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
  request_publish();  // before the checkpoint below: its fsync never delays an event
  start_queued();
  if (jobs_.empty()) store_.flush_touches();  // quiet: write the batched fetch times now
  upkeep_.maintain_wal();  // events are out by now
  if (db_.degraded()) arm_store_probe();
}

void refresh_job::start_queued() {
  while (in_flight_ < std::max(1, store_.config().max_concurrent_refreshes) && !queue_.empty()) {
    auto id = queue_.front();
    queue_.pop_front();
    auto it = jobs_.find(id);
    if (it != jobs_.end()) start_attempt(*it->second);
  }
}

// While the store refuses writes, a small write every retry interval tells when it takes them
// again; then what failed for that reason is refreshed once more.
void refresh_job::arm_store_probe() {
  if (probe_armed_ || stopped_) return;
  probe_armed_ = true;
  auto every = std::chrono::duration<double>(std::max(1.0, store_.config().retry_base_seconds));
  probe_.expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(every));
  probe_.async_wait([this](boost::system::error_code ec) {
    probe_armed_ = false;
    if (ec || stopped_) return;
    if (!store_.probe()) return arm_store_probe();
    auto ids = std::move(store_failed_);
    store_failed_.clear();
    for (auto& id : ids)
      if (auto p = store_.latest(id)) enqueue(id, p->row.path, std::make_shared<collection_memo>(), nullptr);
  });
}

void refresh_job::start_attempt(job& j) {
  j.running = true;
  j.store_failure = false;
  ++j.attempt;
  ++in_flight_;
  int seen = max_seen_.load();
  while (in_flight_ > seen && !max_seen_.compare_exchange_weak(seen, in_flight_)) {
  }
  j.token = next_token_++;
  j.cancel = std::make_shared<std::atomic<bool>>(false);
  if (j.attempt == 1) {
    j.started = std::chrono::steady_clock::now();
    emit(events::refresh_started(j.id));
  }
  auto timeout = std::chrono::duration<double>(store_.config().refresh_timeout_seconds);
  j.timer.expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
  j.timer.async_wait([this, id = j.id, token = j.token](boost::system::error_code ec) {
    if (ec) return;
    auto it = jobs_.find(id);
    // Already scanned (its expiry was queued before the scan came back): it is being written.
    if (it == jobs_.end() || it->second->token != token || !it->second->running || it->second->awaiting_write) return;
    auto& jj = *it->second;
    jj.token = 0;  // the scan's result, if it ever comes, is dropped
    jj.cancel->store(true);  // and its hashing stops at its next read, freeing the thread
    --in_flight_;
    attempt_failed(jj, "refresh timed out after " +
                           std::to_string(static_cast<int>(store_.config().refresh_timeout_seconds)) + " s",
                   true);
    pump();
  });

  auto entry = store_.latest(j.id);
  asio::post(pool_, [this, id = j.id, path = j.path, token = j.token, memo = j.memo, entry, attempt = j.attempt,
                     cancel = j.cancel] {
    platform::lower_thread_priority();
    previous_rows prev;
    if (entry)
      for (auto& a : entry->artifacts) prev.emplace(a->id, a.get());
    scan_context ctx{caches_.collections, caches_.hasher, *memo, &caches_.deployed, {cancel.get(), &cancel_all_}};
    if (scan_fault_) ctx.before_read = [this, &path, attempt] { scan_fault_(path, attempt); };
    auto scan = scan_project(fs::path(path), ctx, prev);  // a failure is scan.error, never a throw
    asio::post(strand_, [this, id, token, scan = std::move(scan)]() mutable { on_scan_done(id, token, std::move(scan)); });
  });
}

void refresh_job::on_scan_done(const std::string& id, std::uint64_t token, project_scan scan) {
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second->token != token || !it->second->running) return;
  auto& j = *it->second;
  j.timer.cancel();
  --in_flight_;  // the next scan starts now, while this one waits to be written
  if (scan.error) {
    attempt_failed(j, scan.error->text(), scan.error->retryable);
  } else {
    // Written with every scan that finishes before the write strand comes to it: one commit
    // for all of them. The busier the strand, the more each commit carries.
    j.awaiting_write = true;
    to_write_.push_back({id, token, std::move(scan)});
    if (to_write_.size() == 1) asio::post(strand_, [this] { write_scanned(); });
    return start_queued();  // the rest of pump() once written: no checkpoint before its events
  }
  pump();
}

void refresh_job::write_scanned() {
  auto batch = std::move(to_write_);
  to_write_.clear();
  std::erase_if(batch, [&](const scanned& s) {  // abandoned or timed out meanwhile
    auto it = jobs_.find(s.id);
    return it == jobs_.end() || it->second->token != s.token || !it->second->awaiting_write;
  });
  if (batch.empty()) return;
  std::vector<const project_scan*> scans;
  for (auto& s : batch) scans.push_back(&s.scan);
  auto t_write = std::chrono::steady_clock::now();
  auto outcomes = store_.apply_scans(scans);
  double write_ms = detail::ms_since(t_write);
  for (std::size_t i = 0; i < batch.size(); ++i) written(batch[i].id, std::move(outcomes[i]), write_ms, batch.size());
  pump();
}

void refresh_job::written(const std::string& id, apply_outcome outcome, double write_ms, std::size_t batch) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;  // abandoned by what an earlier scan of the batch set off
  auto& j = *it->second;
  j.awaiting_write = false;
  if (outcome.failure) {
    // Logged once per kind by the store's health; retried, then again once writes work.
    j.store_failure = true;
    store_failed_.insert(id);
    return attempt_failed(j, "the cache database could not be written (" + db::describe_failure(outcome.failure) +
                                 "); it is retried once writes work again", true);
  }
  BOOST_LOG_TRIVIAL(debug) << "refreshed " << j.path << " in " << detail::ms_since(j.started) << " ms (write "
                           << write_ms << " ms for " << batch << " projects; " << outcome.added.size() << " added, "
                           << outcome.changed_ids.size() << " changed, " << outcome.removed.size() << " removed)";
  refresh_result r;
  r.projects_refreshed = 1;
  r.changes_detected = outcome.changed;
  r.duration_seconds = detail::ms_since(j.started) / 1000.0;
  events::artifact_diff diff{std::move(outcome.added), std::move(outcome.removed), std::move(outcome.changed_ids)};
  double ms = detail::ms_since(j.started);
  if (outcome.changed) emit(events::changes_detected(id, diff, ms));
  emit(events::refresh_completed(id, outcome.changed, std::move(diff), ms));
  finish(id, std::move(r));
}

void refresh_job::attempt_failed(job& j, const std::string& message, bool retryable) {
  j.running = false;
  if (retryable && j.attempt < max_attempts && !stopped_) {
    {
      std::lock_guard lk(sched_mu_);
      ++counters_.retries;
    }
    double delay = store_.config().retry_base_seconds * std::pow(2.0, j.attempt - 1);
    BOOST_LOG_SEV(boost::log::trivial::logger::get(), j.store_failure ? boost::log::trivial::debug : boost::log::trivial::info)
        << "refresh of " << j.path << " failed (attempt " << j.attempt << "), retrying in " << delay << " s: " << message;
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
  BOOST_LOG_SEV(boost::log::trivial::logger::get(), j.store_failure ? boost::log::trivial::debug : boost::log::trivial::warning)
      << "refresh of " << j.path << " failed: " << message;
  store_.mark_error(j.id, j.path, message);
  refresh_result r;
  r.success = false;
  r.errors.push_back(message);
  r.duration_seconds = detail::ms_since(j.started) / 1000.0;
  emit(events::refresh_error(j.id, message, detail::ms_since(j.started)));
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
  auto waiters = std::move(j->waiters);
  if (j->rerun && !stopped_) {
    auto next = std::move(j->next_waiters);
    enqueue(id, j->path, std::make_shared<collection_memo>(), nullptr);
    auto& nj = *jobs_.at(id);
    for (auto& w : next) nj.waiters.push_back(std::move(w));
  } else {
    for (auto& w : j->next_waiters) waiters.push_back(std::move(w));
  }
  if (!waiters.empty())
    after_publish([waiters = std::move(waiters), r = std::move(r)] {
      for (auto& w : waiters) w(r);
    });
}

void refresh_job::abandon(const std::string& id, const std::string& why) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  auto j = std::move(it->second);
  jobs_.erase(it);
  std::erase(queue_, id);
  j->timer.cancel();
  if (j->cancel) j->cancel->store(true);
  if (j->running && !j->awaiting_write) --in_flight_;  // on_scan_done finds no job and drops the result
  refresh_result r;
  r.success = false;
  r.errors.push_back(why);
  for (auto& w : j->next_waiters) j->waiters.push_back(std::move(w));
  if (!j->waiters.empty())
    after_publish([waiters = std::move(j->waiters), r = std::move(r)] {
      for (auto& w : waiters) w(r);
    });
  pump();
}

}  // namespace projcache::cache
