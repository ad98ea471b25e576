#include <sys/syscall.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "cache/upkeep.hpp"
#include "db/connection.hpp"
#include "db/fingerprint_rows.hpp"
#include "db/marketplace_rows.hpp"
#include "db/repository.hpp"
#include "db/transaction.hpp"
#include "platform/platform.hpp"
#include "service_fixture.hpp"

using namespace projcache;
using namespace projcache::test;

namespace {
constexpr micros day = 24LL * 3600 * 1000000;

struct housekeeping_fixture : world_fixture {
  // The database as another process sees it.
  std::set<std::string> fingerprint_paths() {
    db::connection c(db.string(), db::connection::mode::read_only);
    std::set<std::string> out;
    auto st = c.prepare("SELECT path FROM file_fingerprints");
    while (st.step()) out.insert(st.text(0));
    return out;
  }
  std::optional<std::string> meta(const std::string& key) {
    db::connection c(db.string(), db::connection::mode::read_only);
    return db::repository(c).get_meta(key);
  }
};

cache::housekeeping_report run(service& svc, cache::upkeep& hk) {
  std::promise<cache::housekeeping_report> p;
  hk.run_once([&](cache::housekeeping_report r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

db::marketplace_row market_row(const std::string& id, micros cached_at) {
  return {id, id, "skill", "https://example.invalid/" + id, std::nullopt, cached_at, std::nullopt};
}

bool starts_with(const std::string& s, const fs::path& dir) { return s.rfind(dir.string() + "/", 0) == 0; }

int nice_of(pid_t tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::istringstream rest(all.substr(all.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  for (int i = 3; i <= 19; ++i) rest >> field;  // field 19 of proc(5) is nice
  return std::stoi(field);
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(housekeeping_tests, housekeeping_fixture)

BOOST_AUTO_TEST_CASE(retention_purges_only_what_vanished_and_outlived_it) {
  service svc(s);
  svc.refresh_all(false);
  micros now = now_micros();
  svc.on_strand([&] {
    svc.store->replace_marketplace({market_row("old", now - 10 * day), market_row("new", now)}, 0);
  });
  fs::remove_all(w.dev / "clients");  // its fingerprints now describe nothing on disk
  auto before = fingerprint_paths();
  std::size_t orphans = 0;
  for (auto& p : before) orphans += starts_with(p, w.dev / "clients");
  BOOST_REQUIRE(orphans > 0);

  micros clock = now + day;
  cache::upkeep hk(svc.store->config(), *svc.db, *svc.reads, svc.caches->fingerprints, *svc.ex, [&] { return clock; });
  auto r = run(svc, hk);  // a day later: nothing is old enough
  BOOST_TEST(r.retention.fingerprints_purged == 0);
  BOOST_TEST(r.retention.marketplace_purged == 0);
  BOOST_TEST(fingerprint_paths() == before);

  clock = now + 25 * day;  // the 10-day-old listing passes 30 days; the fingerprints do not yet
  r = run(svc, hk);
  BOOST_TEST(r.retention.marketplace_purged == 1);
  BOOST_TEST(r.retention.fingerprints_purged == 0);
  auto market = svc.reads->marketplace(std::nullopt, 0, 10);
  BOOST_REQUIRE(market.items.size() == 1u);
  BOOST_TEST(market.items[0].id == "new");

  clock = now + 31 * day;  // every fingerprint is a candidate: the vanished go, the rest stay
  r = run(svc, hk);
  BOOST_TEST(r.retention.fingerprints_purged == static_cast<std::int64_t>(orphans));
  BOOST_TEST(r.retention.fingerprints_kept == static_cast<std::int64_t>(before.size() - orphans));
  auto after = fingerprint_paths();
  BOOST_TEST(after.size() == before.size() - orphans);
  for (auto& p : after) BOOST_TEST(!starts_with(p, w.dev / "clients"));
  // Kept ones were marked seen: the same clock finds nothing more to look at.
  r = run(svc, hk);
  BOOST_TEST(r.retention.fingerprints_kept == 0);
  BOOST_TEST(r.analyzed == false);  // analyzed at the first pass, not due again within a week
  BOOST_TEST(meta("last_analyze").has_value());
}

BOOST_AUTO_TEST_CASE(size_cap_drops_the_oldest_removable_data_first) {
  std::int64_t artifacts = 0, projects = 0, live_bytes = 0;
  {
    service svc(s);
    svc.refresh_all(false);
    artifacts = svc.reads->status().total_artifacts;
    projects = svc.reads->status().total_projects;
    svc.on_strand([&] { live_bytes = svc.upkeep->storage_usage().used_bytes(); });
  }
  constexpr int synthetic = 20000;
  micros old = now_micros() - 20 * day;  // inside the retention period: only the cap removes them
  {
    db::connection c(db.string());
    db::transaction tx(c);
    std::vector<db::fingerprint_row> rows;
    for (int i = 0; i < synthetic; ++i)
      rows.push_back({"/gone/file-" + std::to_string(100000 + i), i, i, i, std::string(64, 'a'),
                      std::string(64, 'b'), old + i * 1000000LL});
    db::fingerprint_rows(c).upsert(rows);
    std::vector<db::marketplace_row> market;
    for (int i = 0; i < 50; ++i) market.push_back(market_row("m" + std::to_string(i), now_micros() - i * 1000000LL));
    db::marketplace_rows(c).upsert(market);
    tx.commit();
  }
  s.max_cache_size_bytes = live_bytes + 512 * 1024;
  service svc(s);
  std::int64_t bloated = 0;
  svc.on_strand([&] { bloated = svc.upkeep->storage_usage().used_bytes(); });
  BOOST_REQUIRE(bloated > s.max_cache_size_bytes);

  cache::upkeep hk(svc.store->config(), *svc.db, *svc.reads, svc.caches->fingerprints, *svc.ex);
  auto r = run(svc, hk);
  BOOST_TEST(r.size_cap.over_cap);
  BOOST_TEST(!r.size_cap.still_over);
  BOOST_TEST(r.size_cap.after_bytes <= s.max_cache_size_bytes);
  BOOST_TEST(r.file_bytes <= s.max_cache_size_bytes);  // VACUUM gave the pages back to the disk
  BOOST_TEST(r.size_cap.fingerprints_deleted > 0);
  BOOST_TEST(r.vacuumed);
  BOOST_TEST(meta("last_vacuum").has_value());
  // The cache itself is untouched.
  BOOST_TEST(svc.reads->status().total_artifacts == artifacts);
  BOOST_TEST(svc.reads->status().total_projects == projects);
  // Oldest first: the synthetic rows left are the newest ones, and every real fingerprint
  // (seen today) outlived them all.
  auto left = fingerprint_paths();
  int min_kept = synthetic, kept = 0;
  for (auto& p : left)
    if (p.rfind("/gone/file-", 0) == 0) {
      min_kept = std::min(min_kept, std::stoi(p.substr(11)) - 100000);
      ++kept;
    }
  BOOST_TEST(kept < synthetic);
  BOOST_TEST(min_kept == synthetic - kept);
  BOOST_TEST(left.size() > static_cast<std::size_t>(kept));
  BOOST_TEST(svc.reads->marketplace(std::nullopt, 0, 100).items.size() == 50u);  // not needed: kept
}

BOOST_AUTO_TEST_CASE(wal_is_truncated_once_a_held_reader_lets_go) {
  s.wal_bound_bytes = 256 * 1024;
  service svc(s);
  svc.refresh_all(false);
  db::connection reader(db.string(), db::connection::mode::read_only);
  reader.exec("BEGIN");
  BOOST_TEST(reader.query_int("SELECT COUNT(*) FROM artifacts") > 0);  // holds a snapshot
  auto write_some = [&](int n) {
    svc.on_strand([&] {
      for (int i = 0; i < n; ++i) {
        svc.store->set_meta("soak", std::string(8192, static_cast<char>('a' + i % 26)));
        svc.upkeep->maintain_wal();
      }
    });
  };
  write_some(200);
  BOOST_TEST(svc.db->wal_bytes() > s.wal_bound_bytes);  // pinned by the reader
  BOOST_TEST(svc.upkeep->wal_checkpoints_busy() >= 1u);     // tried, was refused, did not fail
  reader.exec("COMMIT");
  BOOST_REQUIRE(wait_until([&] {
    write_some(1);
    return svc.db->wal_bytes() <= s.wal_bound_bytes;
  }));
}

BOOST_AUTO_TEST_CASE(wal_stays_bounded_under_constant_reads_and_write_churn) {
  s.wal_bound_bytes = 256 * 1024;
  service svc(s);
  svc.refresh_all(false);
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::thread readers([&] {
    db::connection c(db.string(), db::connection::mode::read_only);
    while (!done) {
      c.exec("BEGIN");
      c.query_int("SELECT COUNT(*) FROM cache_metadata");
      c.exec("COMMIT");
      ++reads;
    }
  });
  std::int64_t peak = 0;
  for (int round = 0; round < 30; ++round) {
    svc.on_strand([&] {
      for (int i = 0; i < 20; ++i) {
        svc.store->set_meta("churn", std::string(8192, static_cast<char>('a' + i)));
        svc.upkeep->maintain_wal();
        peak = std::max(peak, svc.db->wal_bytes());
      }
    });
  }
  done = true;
  readers.join();
  BOOST_TEST(reads.load() > 0);
  // 600 writes of 8 KiB pass the bound many times over; the WAL never runs away.
  BOOST_TEST(peak <= 2 * s.wal_bound_bytes);
}

// Per-thread nice and ioprio are Linux's; the portable side (what macOS and the BSDs run)
// cannot lower one thread portably and leaves it (platform_portable.cpp).
boost::test_tools::assertion_result linux_seam(boost::unit_test::test_unit_id) { return platform::name() == "linux"; }

BOOST_AUTO_TEST_CASE(background_threads_run_at_low_cpu_and_io_priority, *boost::unit_test::precondition(linux_seam)) {
  service svc(s);
  std::mutex mu;
  std::set<pid_t> tids;
  svc.job->set_scan_fault([&](const std::string&, int) {
    std::lock_guard lk(mu);
    tids.insert(static_cast<pid_t>(::syscall(SYS_gettid)));
  });
  svc.refresh_all(false);
  BOOST_REQUIRE(!tids.empty());
  for (auto tid : tids) {
    BOOST_TEST(nice_of(tid) == 19);  // read back from /proc, as top would show it
    long prio = ::syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, tid);
    BOOST_TEST((prio >> 13) == 2);    // IOPRIO_CLASS_BE: the idle class could starve behind load
    BOOST_TEST((prio & 0xff) == 7);   // its lowest level
  }
}

BOOST_AUTO_TEST_CASE(full_refresh_progress_is_recorded) {
  service svc(s);
  svc.refresh_all(false);
  BOOST_TEST(meta("last_full_refresh_start").has_value());
  BOOST_TEST(meta("last_full_refresh_end").has_value());
  BOOST_TEST(*meta("last_full_refresh_end") >= *meta("last_full_refresh_start"));
  BOOST_TEST(meta("full_refresh_projects_total").value_or("") == "4");
  BOOST_TEST(meta("full_refresh_projects_done").value_or("") == "4");
}

BOOST_AUTO_TEST_SUITE_END()
