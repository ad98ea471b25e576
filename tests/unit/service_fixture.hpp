#pragma once
// The cache service in-process: an io_context on two threads, the store, the refresh job,
// the watcher, and a recorder of every event. Waits are on conditions, with a deadline.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "cache/database.hpp"
#include "cache/executors.hpp"
#include "cache/read_model.hpp"
#include "cache/refresh.hpp"
#include "cache/scan_caches.hpp"
#include "cache/store.hpp"
#include "cache/upkeep.hpp"
#include "cache/service.hpp"
#include "cache/watcher.hpp"
#include "events/bus.hpp"
#include "support/world.hpp"

namespace projcache::test {

struct recorded_event {
  std::uint64_t seq;
  std::string type, project_id;
  std::vector<std::string> added, removed, changed;
  bool changes_detected;
  boost::json::object details;
};

class event_recorder {
 public:
  explicit event_recorder(events::bus& b) : bus_(b) {
    // Runs on the publisher's thread: problems are kept and reported on the test's thread (all()).
    id_ = b.subscribe([this](const events::event_ptr& e) {
      boost::system::error_code ec;
      auto parsed = boost::json::parse(*e->json, ec);
      if (ec || !parsed.is_object()) {
        std::lock_guard lk(mu_);
        bad_.push_back(*e->json);
        return;
      }
      auto v = parsed.as_object();
      recorded_event r{e->seq, std::string(v["type"].as_string()),
                       v["project_id"].is_null() ? "" : std::string(v["project_id"].as_string()), {}, {}, {},
                       v["changes_detected"].as_bool(), v["details"].as_object()};
      auto& d = v["details"].as_object();
      for (auto* key : {"added", "removed", "changed"}) {
        auto& out = std::string(key) == "added" ? r.added : std::string(key) == "removed" ? r.removed : r.changed;
        for (auto& x : d[key].as_array()) out.push_back(std::string(x.as_string()));
      }
      std::lock_guard lk(mu_);
      events_.push_back(std::move(r));
    }).first;
  }
  ~event_recorder() { bus_.unsubscribe(id_); }
  std::vector<recorded_event> all() const {
    std::lock_guard lk(mu_);
    BOOST_REQUIRE_MESSAGE(bad_.empty(), "an event is not a JSON object: " << (bad_.empty() ? "" : bad_.front()));
    return events_;
  }
  std::vector<recorded_event> of(const std::string& type, const std::string& project = "") const {
    std::vector<recorded_event> out;
    for (auto& e : all())
      if (e.type == type && (project.empty() || e.project_id == project)) out.push_back(e);
    return out;
  }
  void clear() {
    std::lock_guard lk(mu_);
    events_.clear();
  }

 private:
  events::bus& bus_;
  std::uint64_t id_;
  mutable std::mutex mu_;
  std::vector<recorded_event> events_;
  std::vector<std::string> bad_;
};

template <class F>
bool wait_until(F&& cond, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling a condition, not a guess
  }
  return true;
}

// cache::service as serve builds it, nothing started; the tests reach its parts (the store,
// the job, the watcher, ...) to drive and inspect them.
struct service {
  boost::asio::io_context ioc;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work{ioc.get_executor()};
  events::bus bus;
  std::unique_ptr<cache::service> svc;
  cache::executors* ex = nullptr;
  cache::read_model* reads = nullptr;
  cache::scan_caches* caches = nullptr;
  cache::database* db = nullptr;
  cache::store* store = nullptr;
  cache::upkeep* upkeep = nullptr;
  cache::refresh_job* job = nullptr;
  cache::watcher* watcher = nullptr;
  event_recorder rec{bus};
  std::vector<std::thread> threads;

  explicit service(cache::settings s, cache::integrity_check when = cache::integrity_check::before_reads) {
    s.scan_threads = 2;
    svc = std::make_unique<cache::service>(ioc, s, bus);
    svc->open(when);
    auto parts = svc->internals();
    ex = &parts.ex;
    reads = &parts.reads;
    caches = &parts.caches;
    db = &parts.db;
    store = &parts.store;
    upkeep = &parts.upkeep;
    job = &parts.job;
    watcher = &parts.watch;
    for (int i = 0; i < 2; ++i) threads.emplace_back([this] { ioc.run(); });
  }
  ~service() {
    svc->stop();
    work.reset();
    ioc.stop();
    for (auto& t : threads) t.join();
  }
  cache::refresh_result refresh_all(bool force) {
    std::promise<cache::refresh_result> p;
    svc->async_refresh(std::nullopt, force, [&](cache::refresh_result r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  cache::refresh_result refresh(const std::string& id, bool force) {
    std::promise<cache::refresh_result> p;
    svc->async_refresh(id, force, [&](cache::refresh_result r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  // Runs a store write where every write runs: on the write strand (and waits for it).
  template <class F>
  void on_strand(F&& f) {
    std::promise<void> p;
    boost::asio::post(ex->write_strand, [&] {
      f();
      p.set_value();
    });
    p.get_future().get();
  }
  // True once nothing is queued, running or waiting in the refresh job.
  bool job_idle() {
    std::promise<bool> p;
    boost::asio::post(ex->write_strand, [&] { p.set_value(job->idle()); });
    return p.get_future().get();
  }
};

inline cache::settings settings_for(const reference_world& w, const fs::path& db) {
  cache::settings s;
  s.home = w.home;
  s.db_path = db;
  s.search_roots = {w.dev};
  s.retry_base_seconds = 0.01;
  s.debounce_ms = 30;
  return s;
}

// The reference world with old timestamps, a database path and settings for it.
struct world_fixture {
  temp_dir dir;
  reference_world w = build_reference_world(dir.path());
  fs::path db = dir.path() / "db" / "projcache.db";
  cache::settings s = settings_for(w, db);
  world_fixture() {
    age_tree(w.home);
    age_tree(w.dev);
  }
};

}  // namespace projcache::test
