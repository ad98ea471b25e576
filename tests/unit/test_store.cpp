#include <boost/test/unit_test.hpp>

#include "cache/database.hpp"
#include "cache/read_model.hpp"
#include "cache/scan_caches.hpp"
#include "cache/snapshot_file.hpp"
#include "cache/store.hpp"
#include "cache/scanner.hpp"
#include "db/connection.hpp"
#include "events/bus.hpp"
#include "support/world.hpp"

using namespace projcache;
using namespace projcache::cache;
using namespace projcache::test;
namespace fs = std::filesystem;

namespace {
struct store_fixture {
  temp_dir dir;
  reference_world w = build_reference_world(dir.path());
  events::bus bus;
  settings s;
  std::unique_ptr<read_model> reads;
  std::unique_ptr<scan_caches> caches;
  std::unique_ptr<database> db;
  std::unique_ptr<store> st;
  store_fixture() {
    s.home = w.home;
    s.db_path = dir.path() / "db" / "projcache.db";
    s.search_roots = {w.dev};
    open();
  }
  // As a new process does: nothing in memory, everything from the file. True when the rows
  // came from the snapshot file a clean close kept.
  bool open() {
    st.reset();
    db.reset();
    reads = std::make_unique<read_model>(s);
    caches = std::make_unique<scan_caches>(s.home);
    db = std::make_unique<database>(s);
    db->open();
    st = std::make_unique<store>(s, *db, *reads, caches->fingerprints);
    return st->load();
  }
  project_scan scan(const std::string& rel) {
    collection_memo memo;
    previous_rows prev;
    auto p = reads->project(b64_id(w.dev / rel));
    if (p)
      for (auto& a : p->artifacts) prev.emplace(a->id, a.get());
    return scan_project(w.dev / rel, scan_context{caches->collections, caches->hasher, memo}, prev);
  }
  // As the refresh job does once a batch is done: the write, then the snapshot with it.
  apply_outcome applied(const project_scan& sc) {
    auto out = st->apply_scans({&sc}).at(0);
    st->publish();
    return out;
  }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(store_tests, store_fixture)

BOOST_AUTO_TEST_CASE(apply_scan_reports_exact_differences) {
  auto first = applied(scan("app"));
  BOOST_TEST(first.is_new);
  BOOST_TEST(first.added.size() == 6u);
  auto again = applied(scan("app"));
  BOOST_TEST(!again.changed);
  BOOST_TEST(again.added.empty());

  write_file(w.dev / "app/.claude/agents/pm.md", "edited again\n");
  auto edited = applied(scan("app"));
  BOOST_TEST(edited.changed);
  BOOST_TEST((edited.changed_ids == std::vector<std::string>{w.app_id + ":.claude:agent:pm"}));

  auto text = read_file(w.dev / "app/.claude/.skillmeat-deployed.toml");
  auto cut = text.find("[[deployed]]\nartifact_name = \"legacy\"");
  write_file(w.dev / "app/.claude/.skillmeat-deployed.toml", text.substr(0, cut) + text.substr(text.find("[[deployed]]\nartifact_name = \"ghost\"")));
  auto removed = applied(scan("app"));
  BOOST_TEST((removed.removed == std::vector<std::string>{w.app_id + ":.claude:command:legacy"}));
  BOOST_TEST(reads->project(w.app_id)->artifacts.size() == 5u);
}

BOOST_AUTO_TEST_CASE(writes_are_staged_until_published) {
  auto gen = reads->current()->generation;
  auto app = scan("app"), web = scan("clients/web");
  auto outs = st->apply_scans({&app, &web});  // one transaction for both
  BOOST_TEST(outs.size() == 2u);
  BOOST_TEST((outs[0].failure == 0 && outs[1].failure == 0));
  BOOST_TEST(st->has_staged());
  BOOST_TEST(!reads->project(w.app_id));  // readers still see the last snapshot
  BOOST_REQUIRE(st->latest(w.app_id));  // the writer sees its own writes
  BOOST_TEST(st->latest(w.app_id)->artifacts.size() == 6u);
  BOOST_TEST(st->publish());
  BOOST_TEST(!st->has_staged());
  BOOST_TEST(!st->publish());
  BOOST_TEST(reads->current()->generation == gen + 1);  // both in one snapshot
  BOOST_TEST(reads->status().total_projects == 2);
  BOOST_TEST(reads->list_artifacts({}).total == 8);
}

BOOST_AUTO_TEST_CASE(rows_survive_a_restart) {
  applied(scan("app"));
  applied(scan("clients/web"));
  auto before = reads->status();
  open();
  auto after = reads->status();
  BOOST_TEST(after.total_projects == 2);
  BOOST_TEST(after.total_artifacts == before.total_artifacts);
  BOOST_TEST(after.outdated_artifacts == 2);
  auto p = reads->project(w.app_id);
  BOOST_REQUIRE(p);
  BOOST_TEST(p->drift_counts[0] == 1);  // synced
}

BOOST_AUTO_TEST_CASE(rows_the_database_refuses_fail_their_own_scan_only) {
  auto app = scan("app"), web = scan("clients/web");
  BOOST_REQUIRE(web.artifacts.size() >= 2u);
  web.artifacts[1].type = "";  // the schema's CHECK(length(type) > 0) refuses this row
  auto outs = st->apply_scans({&web, &app});
  BOOST_TEST(outs[0].failure != 0);
  BOOST_TEST(outs[1].failure == 0);
  BOOST_TEST(outs[1].added.size() == 6u);
  st->publish();
  BOOST_TEST(!reads->project(b64_id(w.dev / "clients/web")));  // nothing of it, not even its first row
  BOOST_REQUIRE(reads->project(w.app_id));
  open();  // and the file agrees: app committed, web not
  BOOST_TEST(reads->status().total_projects == 1);
  BOOST_TEST(reads->project(w.app_id)->artifacts.size() == 6u);
}

// Every row the read model holds, as text, in a stable order.
std::vector<std::string> served_rows(const read_model& reads) {
  std::vector<std::string> out;
  for (auto& p : reads.current()->projects_sorted) {
    auto& r = p->row;
    out.push_back(r.id + "|" + r.name + "|" + r.path + "|" + r.status + "|" + r.error_message.value_or("-") + "|" +
                  std::to_string(r.created_at) + "|" + std::to_string(r.updated_at) + "|" +
                  std::to_string(r.last_fetched.value_or(-1)));
    for (auto& a : p->artifacts)
      out.push_back(a->id + "|" + *a->name + "|" + *a->drift + "|" + a->deployed_hash.value_or("-") + "|" +
                    a->local_hash.value_or("-") + "|" + a->metadata_json.value_or("-") + "|" +
                    std::to_string(a->updated_at) + "|" + std::to_string(a->is_outdated));
  }
  return out;
}

BOOST_AUTO_TEST_CASE(a_clean_close_keeps_the_rows_and_the_next_load_gives_what_the_database_gives) {
  applied(scan("app"));
  applied(scan("clients/web"));
  st->mark_error(w.app_id, w.dev / "app", "x.toml:3: bad");
  st->publish();
  st->flush_touches();
  st->close_keeping_rows();
  BOOST_TEST(fs::exists(snapshot_file_of(s.db_path)));
  BOOST_TEST(open());  // from the kept file
  BOOST_TEST(!fs::exists(snapshot_file_of(s.db_path)));
  auto kept = served_rows(*reads);
  BOOST_TEST(!open());  // read once: now from the database
  BOOST_TEST(served_rows(*reads) == kept, boost::test_tools::per_element());
  BOOST_TEST(kept.size() == 10u);  // 2 projects, 8 artifacts
}

BOOST_AUTO_TEST_CASE(a_database_written_after_the_close_is_read_from_itself) {
  applied(scan("app"));
  st->close_keeping_rows();
  {
    db::connection c(s.db_path.string());
    c.exec("UPDATE projects SET name = 'renamed meanwhile'");
  }
  BOOST_TEST(!open());
  BOOST_TEST(reads->project(w.app_id)->row.name == "renamed meanwhile");
  BOOST_TEST(!fs::exists(snapshot_file_of(s.db_path)));
}

BOOST_AUTO_TEST_CASE(error_keeps_last_good_rows) {
  applied(scan("app"));
  st->mark_error(w.app_id, w.dev / "app", "x.toml:3: bad");
  st->publish();
  auto p = reads->project(w.app_id);
  BOOST_TEST(p->row.status == "error");
  BOOST_TEST(*p->row.error_message == "x.toml:3: bad");
  BOOST_TEST(p->artifacts.size() == 6u);
  applied(scan("app"));
  BOOST_TEST(reads->project(w.app_id)->row.status == "active");
  BOOST_TEST(!reads->project(w.app_id)->row.error_message);
}

BOOST_AUTO_TEST_CASE(reads_sort_filter_and_paginate) {
  applied(scan("app"));
  applied(scan("clients/web"));
  auto all = reads->list_artifacts({});
  BOOST_TEST(all.total == 8);
  for (std::size_t i = 1; i < all.items.size(); ++i) BOOST_TEST(!artifact_less(all.items[i], all.items[i - 1]));
  artifact_query q;
  q.is_outdated = true;
  BOOST_TEST(reads->list_artifacts(q).total == 2);
  q = {};
  q.project_id = w.web_id;
  q.limit = 1;
  auto page = reads->list_artifacts(q);
  BOOST_TEST(page.total == 2);
  BOOST_TEST(page.items.size() == 1u);
  q.project_id = "unknown";
  BOOST_TEST(reads->list_artifacts(q).total == 0);

  stale_query sq;
  sq.sort_by = "version_diff";
  auto stale = reads->stale_artifacts(sq);
  BOOST_REQUIRE(stale.total == 2);
  BOOST_TEST(stale.items[0].artifact->name == "lint");  // "<hex> -> <hex>" sorts before "minor ..."
  BOOST_TEST(stale.items[1].version_difference.value() == "minor version upgrade (0 -> 2)");
  sq.descending = true;
  BOOST_TEST(reads->stale_artifacts(sq).items[0].artifact->name == "review");

  search_query s;
  s.query = "DOCS";
  auto found = reads->search(s);
  BOOST_TEST(found.total == 2);
  BOOST_TEST(found.items[0].score == 100.0);
  BOOST_TEST(found.items[0].project_name == "Web Frontend");
  s.query = "e";
  auto many = reads->search(s);
  BOOST_TEST(many.total == 3);  // canvas-design, legacy, review
}

BOOST_AUTO_TEST_CASE(invalidate_and_status_counts) {
  applied(scan("app"));
  applied(scan("clients/web"));
  BOOST_TEST(reads->status().stale_projects == 0);
  BOOST_TEST(st->invalidate(w.app_id) == 1);
  BOOST_TEST(reads->project(w.app_id)->row.status == "stale");
  BOOST_TEST(reads->status().stale_projects == 1);
  BOOST_TEST(st->invalidate(std::nullopt) == 2);
  BOOST_TEST(reads->status().stale_projects == 2);
  project_query pq;
  pq.status = "stale";
  BOOST_TEST(reads->list_projects(pq).total == 2);
}

BOOST_AUTO_TEST_CASE(hits_and_misses) {
  applied(scan("app"));
  BOOST_TEST(!reads->status().hit_rate);
  (void)reads->count_read(std::nullopt);
  (void)reads->count_read(w.app_id);
  (void)reads->count_read(std::string("unknown"));
  auto st = reads->status();
  BOOST_TEST(st.hits == 2u);
  BOOST_TEST(st.misses == 1u);
  BOOST_TEST(*st.hit_rate == 2.0 / 3.0, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_SUITE_END()
