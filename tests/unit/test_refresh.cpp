#include <boost/test/unit_test.hpp>
#include <fstream>

#include "common/time_format.hpp"
#include "db/connection.hpp"
#include "db/store.hpp"
#include "service_fixture.hpp"
#include "support/damage.hpp"
#include "support/small_disk.hpp"

using namespace projcache;
using namespace projcache::test;

namespace {
struct refresh_fixture : world_fixture {};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(refresh_tests, refresh_fixture)

BOOST_AUTO_TEST_CASE(first_start_populates_and_second_changes_nothing) {
  {
    service svc(s);
    auto r = svc.refresh_all(false);
    BOOST_TEST(!r.success);  // broken fails
    BOOST_TEST(r.projects_refreshed == 3);
    BOOST_TEST(r.changes_detected);
    BOOST_TEST(r.errors.size() == 1u);
    BOOST_TEST(svc.reads->status().total_projects == 4);
    BOOST_TEST(svc.reads->project(w.broken_id)->row.status == "error");
    BOOST_TEST(svc.rec.of("project_added").size() == 4u);
    BOOST_TEST(svc.rec.of("refresh_error", w.broken_id).size() == 1u);
    auto added = svc.rec.of("changes_detected", w.app_id).at(0).added;
    BOOST_TEST(added.size() == 6u);
    // started, changes_detected, completed in seq order for a project
    auto evs = svc.rec.all();
    std::vector<std::string> app_types;
    for (auto& e : evs)
      if (e.project_id == w.app_id && e.type != "project_added") app_types.push_back(e.type);
    BOOST_TEST((app_types == std::vector<std::string>{"refresh_started", "changes_detected", "refresh_completed"}));
    for (std::size_t i = 1; i < evs.size(); ++i) BOOST_TEST(evs[i].seq == evs[i - 1].seq + 1);
  }
  service again(s);
  auto opened_before = again.caches->stats.files_opened.load();
  auto r = again.refresh_all(true);
  BOOST_TEST(r.projects_refreshed == 3);
  BOOST_TEST(!r.changes_detected);
  BOOST_TEST(again.rec.of("changes_detected").empty());
  BOOST_TEST(again.caches->stats.files_opened.load() == opened_before);  // nothing re-hashed
  for (auto& e : again.rec.of("refresh_completed")) BOOST_TEST(!e.changes_detected);
}

BOOST_AUTO_TEST_CASE(edits_produce_exactly_the_changed_ids) {
  service svc(s);
  svc.refresh_all(false);
  svc.rec.clear();
  // a deployed file edited
  write_file(w.dev / "app/.claude/skills/canvas-design/A.md", "edited\n");
  auto r = svc.refresh(w.app_id, true);
  BOOST_TEST(r.changes_detected);
  auto ev = svc.rec.of("changes_detected", w.app_id).at(0);
  BOOST_TEST((ev.changed == std::vector<std::string>{w.app_id + ":.claude:skill:canvas-design"}));
  // a deployment entry added
  auto dep = w.dev / "clients/web/.codex/.skillmeat-deployed.toml";
  write_file(dep, read_file(dep) + "\n[[deployed]]\nartifact_name = \"extra\"\nartifact_type = \"command\"\nfrom_collection = \"team\"\n");
  svc.rec.clear();
  svc.refresh(w.web_id, true);
  BOOST_TEST((svc.rec.of("changes_detected").at(0).added == std::vector<std::string>{w.web_id + ":.codex:command:extra"}));
  // a collection update: the projects using it see new collection hashes
  write_file(w.home / "collections/team/skills/docs/SKILL.md", "---\nversion: 0.4.0\n---\nnew\n");
  svc.rec.clear();
  svc.refresh(w.web_id, true);
  auto changed = svc.rec.of("changes_detected").at(0).changed;
  BOOST_TEST(changed.size() == 2u);
  BOOST_TEST(svc.reads->status().outdated_artifacts == 4);
}

BOOST_AUTO_TEST_CASE(malformed_file_marks_only_that_project_and_keeps_rows) {
  service svc(s);
  svc.refresh_all(false);
  write_file(w.dev / "app/.claude/.skillmeat-deployed.toml", "[[deployed]\n");
  auto r = svc.refresh(w.app_id, true);
  BOOST_TEST(!r.success);
  BOOST_TEST(r.errors.at(0).find(".skillmeat-deployed.toml:1") != std::string::npos);
  auto p = svc.reads->project(w.app_id);
  BOOST_TEST(p->row.status == "error");
  BOOST_TEST(p->artifacts.size() == 6u);
  BOOST_TEST(svc.reads->project(w.web_id)->row.status == "active");
  BOOST_TEST(svc.rec.of("refresh_started", w.app_id).size() == 2u);  // no retries for bad content
}

BOOST_AUTO_TEST_CASE(retry_with_backoff_then_success) {
  service svc(s);
  svc.refresh_all(false);
  std::atomic<int> attempts{0};
  svc.job->set_scan_fault([&](const std::string& path, int attempt) {
    if (path != (w.dev / "app").string()) return;
    attempts = attempt;
    if (attempt < 3) throw std::runtime_error("transient I/O error");
  });
  auto t0 = std::chrono::steady_clock::now();
  auto r = svc.refresh(w.app_id, true);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  BOOST_TEST(r.success);
  BOOST_TEST(attempts.load() == 3);
  BOOST_TEST((elapsed >= std::chrono::milliseconds(30)));  // backoff 10 ms then 20 ms
  BOOST_TEST(svc.reads->project(w.app_id)->row.status == "active");
}

BOOST_AUTO_TEST_CASE(failing_every_attempt_marks_error) {
  service svc(s);
  svc.refresh_all(false);
  svc.job->set_scan_fault([&](const std::string& path, int) {
    if (path == (w.dev / "app").string()) throw std::runtime_error("disk on fire");
  });
  auto r = svc.refresh(w.app_id, true);
  BOOST_TEST(!r.success);
  BOOST_TEST(r.errors.at(0).find("disk on fire") != std::string::npos);
  BOOST_TEST(svc.reads->project(w.app_id)->row.status == "error");
  BOOST_TEST(svc.reads->project(w.app_id)->artifacts.size() == 6u);
}

BOOST_AUTO_TEST_CASE(attempt_timeout_is_a_retryable_failure) {
  // Long enough for any honest scan on a loaded sanitizer build; the held attempt exceeds it.
  s.refresh_timeout_seconds = 1.0;
  service svc(s);
  std::atomic<bool> release{false};
  svc.job->set_scan_fault([&](const std::string& path, int attempt) {
    if (path == (w.dev / "app").string() && attempt == 1)
      wait_until([&] { return release.load(); }, std::chrono::milliseconds(5000));
  });
  auto r = svc.refresh_all(false);
  release = true;
  BOOST_TEST(svc.reads->project(w.app_id)->row.status == "active");
  BOOST_TEST(r.projects_refreshed == 3);
  BOOST_TEST(svc.job->counters().retries >= 1u);  // the held attempt timed out and was retried
}

BOOST_AUTO_TEST_CASE(concurrency_never_exceeds_the_limit) {
  for (int i = 0; i < 12; ++i) write_file(w.dev / ("many/p" + std::to_string(i)) / ".claude/.skillmeat-deployed.toml", "");
  s.max_concurrent_refreshes = 2;
  service svc(s);
  std::atomic<int> running{0}, peak{0}, entered{0};
  svc.job->set_scan_fault([&](const std::string&, int) {
    int now = ++running;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    // A barrier for the first two scans: each waits until both run, so the limit is reached
    // for certain (a job that ran one at a time would leave the peak at 1).
    if (++entered <= 2) wait_until([&] { return running.load() >= 2; }, std::chrono::milliseconds(5000));
    --running;
  });
  auto r = svc.refresh_all(false);
  BOOST_TEST(r.projects_refreshed == 15);
  BOOST_TEST(peak.load() == 2);
  BOOST_TEST(svc.job->max_concurrency_seen() == 2u);
}

BOOST_AUTO_TEST_CASE(ttl_staleness_and_invalidate_then_refresh) {
  service svc(s);
  svc.refresh_all(false);
  auto r = svc.refresh(w.app_id, false);  // fresh: nothing to do
  BOOST_TEST(r.projects_refreshed == 0);
  svc.on_strand([&] { svc.store->invalidate(w.app_id); });
  BOOST_TEST(svc.reads->status().stale_projects >= 1);
  r = svc.refresh(w.app_id, false);
  BOOST_TEST(r.projects_refreshed == 1);
  BOOST_TEST(svc.reads->project(w.app_id)->row.status == "active");
  auto again = svc.refresh_all(false);  // only the error project is stale now
  BOOST_TEST(again.projects_refreshed == 0);
}

BOOST_AUTO_TEST_CASE(a_stale_request_during_a_scan_is_answered_by_it_and_a_forced_one_runs_again) {
  service svc(s);
  svc.refresh_all(false);
  std::atomic<int> scans{0};
  std::atomic<bool> release{false};
  svc.job->set_scan_fault([&](const std::string& path, int) {
    if (path != (w.dev / "app").string()) return;
    ++scans;
    wait_until([&] { return release.load(); }, std::chrono::milliseconds(5000));
  });
  auto run = [&](bool second_forced) {
    scans = 0;
    release = false;
    svc.on_strand([&] { svc.store->invalidate(w.app_id); });
    std::promise<cache::refresh_result> first, second;
    svc.job->refresh_project(w.app_id, false, [&](cache::refresh_result r) { first.set_value(std::move(r)); });
    BOOST_REQUIRE(wait_until([&] { return scans.load() == 1; }));
    // What a read of the stale project asks for (or a forced refresh), while its scan runs.
    svc.job->refresh_project(w.app_id, second_forced, [&](cache::refresh_result r) { second.set_value(std::move(r)); });
    svc.on_strand([] {});  // the request above has been taken
    release = true;
    BOOST_TEST(first.get_future().get().success);
    BOOST_TEST(second.get_future().get().success);
    return scans.load();
  };
  BOOST_TEST(run(false) == 1);  // the running scan makes it fresh: no second one
  BOOST_TEST(run(true) == 2);   // files may have changed since the scan began: once more
}

BOOST_AUTO_TEST_CASE(background_schedule_runs_every_interval) {
  s.refresh_interval_hours = 0.1 / 3600;  // every 100 ms
  service svc(s);
  svc.job->start();
  BOOST_REQUIRE(wait_until([&] { return svc.job->ready(); }));
  auto first = svc.job->schedule();
  BOOST_TEST(first.is_running);
  BOOST_REQUIRE(first.last_run_time.has_value());
  // A project that goes stale is picked up by the next tick, with no request at all.
  svc.on_strand([&] { svc.store->invalidate(w.app_id); });
  svc.rec.clear();
  // The tick in progress when `first` was read may be the one that picks it up; either way a
  // later tick runs too.
  BOOST_REQUIRE(wait_until([&] {
    return !svc.rec.of("refresh_completed", w.app_id).empty() &&
           *svc.job->schedule().last_run_time > *first.last_run_time;
  }));
  BOOST_TEST(svc.reads->project(w.app_id)->row.status == "active");
}

BOOST_AUTO_TEST_CASE(vanished_project_is_removed) {
  service svc(s);
  svc.refresh_all(false);
  fs::remove_all(w.dev / "clients");
  svc.refresh_all(false);
  BOOST_TEST(!svc.reads->project(w.web_id));
  BOOST_TEST(svc.rec.of("project_removed", w.web_id).size() == 1u);
}

BOOST_AUTO_TEST_CASE(vanished_project_with_a_refresh_in_flight_is_removed) {
  s.retry_base_seconds = 30;  // the failed attempt waits for its retry through the whole test
  service svc(s);
  svc.refresh_all(false);
  std::atomic<int> attempts{0};
  svc.job->set_scan_fault([&](const std::string& path, int) {
    if (path == (w.dev / "clients/web").string()) {
      ++attempts;
      throw std::runtime_error("transient I/O error");
    }
  });
  std::promise<cache::refresh_result> waiter;
  svc.job->refresh_project(w.web_id, true, [&](cache::refresh_result r) { waiter.set_value(std::move(r)); });
  BOOST_REQUIRE(wait_until([&] { return attempts.load() == 1; }));
  fs::remove_all(w.dev / "clients");
  svc.refresh_all(false);
  BOOST_TEST(!svc.reads->project(w.web_id));
  BOOST_TEST(svc.rec.of("project_removed", w.web_id).size() == 1u);
  auto r = waiter.get_future().get();  // the waiter is answered, not left hanging
  BOOST_TEST(!r.success);
  BOOST_TEST(r.errors.at(0).find("removed") != std::string::npos);
  bool idle = false;
  svc.on_strand([&] { idle = svc.job->idle(); });
  BOOST_TEST(idle);
}

BOOST_AUTO_TEST_CASE(corrupt_database_is_rebuilt_with_the_same_rows) {
  std::int64_t artifacts = 0;
  {
    service svc(s);
    svc.refresh_all(false);
    artifacts = svc.reads->status().total_artifacts;
  }
  write_file(db, "garbage, not a database at all.................");
  fs::remove(db.string() + "-wal");
  service svc(s);
  BOOST_TEST(svc.db->corruption().has_value());
  svc.job->start();
  BOOST_REQUIRE(wait_until([&] { return !svc.rec.of("cache_rebuilt").empty(); }));
  auto rebuilt = svc.rec.of("cache_rebuilt").front().details;
  BOOST_TEST(std::string(rebuilt.at("moved_aside").as_string()).find("projcache.db.corrupt-") != std::string::npos);
  BOOST_TEST(fs::exists(std::string(rebuilt.at("moved_aside").as_string())));
  BOOST_TEST(!rebuilt.at("reason").as_string().empty());
  BOOST_TEST(rebuilt.at("projects").as_string() == "4");  // event extras are text on the wire
  BOOST_TEST(svc.reads->status().total_artifacts == artifacts);
  BOOST_TEST(svc.job->ready());
}

// A file whose header is fine but whose pages are damaged is found by the integrity check that
// runs beside the load (or by the load itself): nothing read from it is kept.
BOOST_AUTO_TEST_CASE(damaged_pages_found_beside_the_load_are_rebuilt) {
  std::int64_t artifacts = 0;
  {
    service svc(s);
    svc.refresh_all(false);
    artifacts = svc.reads->status().total_artifacts;
  }  // closed: the WAL is folded in and removed
  BOOST_REQUIRE(!fs::exists(db.string() + "-wal"));
  auto size = fs::file_size(db);
  {
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    std::string junk(8192, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  service svc(s);
  BOOST_REQUIRE(svc.db->corruption().has_value());
  BOOST_TEST(svc.reads->status().total_projects == 0);  // the damaged file's rows are not served
  svc.job->start();
  BOOST_REQUIRE(wait_until([&] { return !svc.rec.of("cache_rebuilt").empty(); }));
  BOOST_REQUIRE(wait_until([&] { return svc.job->ready(); }));
  BOOST_TEST(svc.reads->status().total_artifacts == artifacts);
  BOOST_TEST(!db::integrity_problem(db).has_value());  // the new file is sound
}

// As serve opens it: the loaded rows are read at once, while the integrity check still runs;
// a write asked for meanwhile waits for the check's finding, then runs.
BOOST_AUTO_TEST_CASE(a_serving_start_reads_at_once_and_writes_after_the_check) {
  std::int64_t artifacts = 0;
  {
    service svc(s);
    svc.refresh_all(false);
    artifacts = svc.reads->status().total_artifacts;
  }
  service svc(s, cache::integrity_check::beside_serving);
  BOOST_TEST(svc.reads->status().total_artifacts == artifacts);
  BOOST_TEST(!svc.db->corruption().has_value());
  std::promise<std::int64_t> invalidated;
  svc.svc->async_invalidate(w.app_id, [&](std::int64_t n) { invalidated.set_value(n); });
  auto answer = invalidated.get_future();
  svc.on_strand([] {});  // the write strand has taken the request: it is queued, not run
  BOOST_TEST((answer.wait_for(std::chrono::seconds(0)) == std::future_status::timeout));
  BOOST_TEST(!svc.reads->is_stale(*svc.reads->project(w.app_id), now_micros()));
  svc.svc->start(cache::start_options{false, false, false, {}});
  BOOST_TEST(answer.get() == 1);
  BOOST_TEST(svc.reads->is_stale(*svc.reads->project(w.app_id), now_micros()));
  BOOST_REQUIRE(wait_until([&] { return svc.job->ready(); }));
  BOOST_TEST(svc.rec.of("cache_rebuilt").empty());
}

// The same start on a file damaged where the load does not read (the fingerprints' table): its
// rows are served until the check says so; then the file is swapped for a fresh one under a new
// generation (no body cached from the old one matches again), and the writes queued meanwhile
// land in the new file.
BOOST_AUTO_TEST_CASE(a_serving_start_swaps_a_damaged_file_before_any_write) {
  std::int64_t artifacts = 0;
  {
    service svc(s);
    svc.refresh_all(false);
    artifacts = svc.reads->status().total_artifacts;
  }
  BOOST_REQUIRE(!fs::exists(db.string() + "-wal"));
  damage_table_root(db, "file_fingerprints");
  service svc(s, cache::integrity_check::beside_serving);
  BOOST_REQUIRE(!svc.db->corruption().has_value());  // not known yet: the rows are served
  BOOST_TEST(svc.reads->status().total_artifacts == artifacts);
  auto loaded = svc.reads->current()->generation;
  std::promise<cache::refresh_result> refreshed;
  svc.svc->async_refresh(std::nullopt, true, [&](cache::refresh_result r) { refreshed.set_value(std::move(r)); });
  svc.svc->start(cache::start_options{false, false, false, {}});
  auto r = refreshed.get_future().get();
  BOOST_TEST(r.projects_refreshed == 3);
  BOOST_REQUIRE(svc.db->corruption().has_value());
  BOOST_TEST(fs::exists(svc.db->corruption()->first));
  BOOST_TEST(svc.reads->current()->generation > loaded);
  BOOST_TEST(svc.reads->status().total_artifacts == artifacts);
  BOOST_REQUIRE(wait_until([&] { return !svc.rec.of("cache_rebuilt").empty(); }));
  BOOST_TEST(!db::integrity_problem(db).has_value());  // the new file is sound
  db::connection c(db.string());
  BOOST_TEST(c.query_int("SELECT COUNT(*) FROM artifacts") == artifacts);  // written there, not to the old one
}

// The same late find on a disk with no room left for a fresh file: nothing is started, no
// write runs, and the server is told to stop with words a user can act on. The damaged file
// stays aside, so nothing is lost.
BOOST_AUTO_TEST_CASE(no_room_for_a_fresh_file_after_a_late_find_stops_with_a_clear_reason) {
  small_disk disk(dir.path() / "disk", "2m");
  s.db_path = disk.dir / "projcache.db";
  {
    service svc(s);
    svc.refresh_all(false);
  }
  damage_table_root(s.db_path, "file_fingerprints");
  service svc(s, cache::integrity_check::beside_serving);
  BOOST_REQUIRE(svc.reads->status().total_projects > 0);  // loaded and served
  disk.fill(disk.dir / "filler");
  std::promise<std::string> fatal;
  cache::start_options o{false, false, false, [&](const std::string& why) { fatal.set_value(why); }};
  svc.svc->start(o);
  auto why = fatal.get_future().get();
  BOOST_TEST(why.find("free some disk space") != std::string::npos);
  BOOST_TEST(why.find("(the disk ") != std::string::npos);  // full, or (tmpfs) an I/O error: SQLite's code described
  BOOST_TEST(why.find("SQLITE") == std::string::npos);
  BOOST_REQUIRE(svc.db->corruption().has_value());
  BOOST_TEST(fs::exists(svc.db->corruption()->first));
  BOOST_TEST(!svc.job->ready());  // nothing was started
}

// Writes reach readers in batches; a project's events and a refresh's answer must still never
// arrive before the snapshot holding its rows.
BOOST_AUTO_TEST_CASE(rows_are_visible_when_their_event_arrives) {
  for (int i = 0; i < 40; ++i) fs::copy(w.dev / "app", w.dev / ("copy" + std::to_string(i)), fs::copy_options::recursive);
  service svc(s);
  std::mutex mu;
  std::vector<std::string> problems;
  std::size_t checked = 0;
  auto sub = svc.bus.subscribe([&](const events::event_ptr& e) {
    if (!e->project_id || e->type == events::event_type::refresh_started) return;
    auto p = svc.reads->project(*e->project_id);
    std::lock_guard lk(mu);
    ++checked;
    bool gone = e->type == events::event_type::project_removed;
    if (bool(p) == gone) problems.push_back(std::string(events::to_string(e->type)) + " before its rows: " + *e->project_id);
    if (p && e->type == events::event_type::refresh_completed && !p->row.last_fetched && p->row.status != "error")
      problems.push_back("refresh_completed before the fetch time: " + *e->project_id);
  });
  auto r = svc.refresh_all(false);
  BOOST_TEST(r.projects_refreshed == 43);
  // The answer comes after the rows, too.
  BOOST_TEST(svc.reads->status().total_projects == 44);
  BOOST_TEST(svc.reads->project(b64_id(w.dev / "copy39"))->artifacts.size() == 6u);
  fs::remove_all(w.dev / "copy7");
  write_file(w.dev / "copy3/.claude/agents/pm.md", "edited\n");
  r = svc.refresh_all(true);
  BOOST_TEST(r.changes_detected);
  BOOST_TEST(!svc.reads->project(b64_id(w.dev / "copy7")));
  svc.bus.unsubscribe(sub.first);
  std::lock_guard lk(mu);
  BOOST_TEST(problems.empty(), (problems.empty() ? "" : problems.front()));
  BOOST_TEST(checked >= 44u * 2 + 1);  // added + completed for each, and the removal
}

BOOST_AUTO_TEST_SUITE_END()
