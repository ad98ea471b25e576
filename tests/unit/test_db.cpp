#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <set>
#include <thread>

#include "db/connection.hpp"
#include "db/error.hpp"
#include "db/fingerprint_rows.hpp"
#include "db/marketplace_rows.hpp"
#include "db/migrations.hpp"
#include "db/repository.hpp"
#include "db/store.hpp"
#include "db/transaction.hpp"
#include "support/world.hpp"

using namespace projcache;
using namespace projcache::db;
using projcache::test::temp_dir;

namespace {
struct store_fixture {
  temp_dir dir;
  std::string path = (dir.path() / "cache" / "test.db").string();
  std::unique_ptr<connection> conn;
  std::unique_ptr<repository> repo;
  store_fixture() {
    prepare_store(path);
    conn = std::make_unique<connection>(path);
    repo = std::make_unique<repository>(*conn);
  }
  project_row project(const std::string& id, const std::string& name) {
    project_row p;
    p.id = id;
    p.name = name;
    p.path = "/p/" + id;
    p.created_at = p.updated_at = 1'700'000'000'000'000;
    p.last_fetched = p.created_at;
    return p;
  }
  artifact_row artifact(const std::string& project, const std::string& name, const std::string& type, bool outdated) {
    artifact_row a;
    a.id = project + ":.claude:" + type + ":" + name;
    a.project_id = project;
    a.name = name;
    a.type = type;
    a.is_outdated = outdated;
    a.drift = outdated ? "outdated" : "synced";
    a.profile_root = ".claude";
    a.description = "about " + name;
    a.tags = "x,y";
    a.created_at = a.updated_at = 1'700'000'000'000'000;
    return a;
  }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(repository_tests, store_fixture)

BOOST_AUTO_TEST_CASE(project_upsert_list_and_not_found) {
  BOOST_TEST(repo->create_project(project("a", "Alpha")).has_value());
  auto all = repo->all_projects();
  BOOST_REQUIRE(all.size() == 1u);
  BOOST_TEST(all[0].name == "Alpha");
  BOOST_TEST(all[0].last_fetched.value() == 1'700'000'000'000'000);
  auto p = all[0];
  p.name = "Alpha 2";
  repo->upsert_project(p);
  BOOST_TEST(repo->all_projects().at(0).name == "Alpha 2");
  BOOST_TEST(repo->delete_project("a").has_value());
  BOOST_TEST(repo->delete_project("a").error() == make_error_code(errc::not_found));
  BOOST_TEST(repo->all_projects().empty());
}

BOOST_AUTO_TEST_CASE(constraint_violations_are_error_codes) {
  BOOST_TEST(repo->create_project(project("a", "Alpha")).has_value());
  BOOST_TEST(repo->create_project(project("a", "Again")).error() == make_error_code(errc::constraint));
  auto dup_path = project("b", "Beta");
  dup_path.path = "/p/a";  // path is UNIQUE
  BOOST_TEST(repo->create_project(dup_path).error() == make_error_code(errc::constraint));
  auto bad_status = project("c", "C");
  bad_status.status = "weird";
  BOOST_TEST(repo->create_project(bad_status).error() == make_error_code(errc::constraint));
}

BOOST_AUTO_TEST_CASE(projects_by_name_and_artifact_pages_with_true_totals) {
  for (int i = 0; i < 250; ++i) BOOST_REQUIRE(repo->create_project(project("id" + std::to_string(i), "P" + std::to_string(1249 - i))).has_value());
  auto all = repo->all_projects();
  BOOST_REQUIRE(all.size() == 250u);
  BOOST_TEST(all.front().name == "P1000");
  BOOST_TEST(all.back().name == "P1249");
  std::vector<artifact_row> rows;
  for (int i = 0; i < 250; ++i) rows.push_back(artifact("id0", "a" + std::to_string(1000 + i), "skill", i % 5 == 0));
  repo->upsert_artifacts(rows);
  auto page = repo->list_artifacts({}, 200, 100);
  BOOST_TEST(page.total == 250);
  BOOST_TEST(page.items.size() == 50u);
  BOOST_TEST(*page.items.front().name == "a1200");
  artifact_filter outdated;
  outdated.is_outdated = true;
  BOOST_TEST(repo->list_artifacts(outdated, 0, 0).total == 50);  // what `projcache status` counts
}

BOOST_AUTO_TEST_CASE(artifacts_cascade_with_their_project) {
  repo->create_project(project("a", "A"));
  repo->upsert_artifacts({artifact("a", "one", "skill", false), artifact("a", "two", "command", true)});
  BOOST_TEST(repo->count_artifacts() == 2);
  BOOST_TEST(conn->query_int("SELECT COUNT(*) FROM artifact_metadata") == 2);
  repo->delete_project("a");
  BOOST_TEST(repo->count_artifacts() == 0);
  BOOST_TEST(conn->query_int("SELECT COUNT(*) FROM artifact_metadata") == 0);
}

BOOST_AUTO_TEST_CASE(table_order_reads_give_each_artifact_the_joins_metadata) {
  // for_each_artifact pairs the two tables by rowid and looks up the rows where that fails:
  // metadata rewritten later (new rowids), an artifact with none, parts that split the table.
  repo->create_project(project("a", "A"));
  std::vector<artifact_row> rows;
  for (int i = 0; i < 10; ++i) rows.push_back(artifact("a", "n" + std::to_string(i), "skill", false));
  rows[3].metadata_json = R"({"k":3})";
  rows[4].aliases = "four";
  repo->upsert_artifacts(rows);
  for (int i : {2, 5}) {
    std::string id = rows[i].id;
    conn->prepare("DELETE FROM artifact_metadata WHERE artifact_id = ?").bind_all(id).run();
    conn->prepare("INSERT INTO artifact_metadata(artifact_id, description) VALUES (?, ?)")
        .bind_all(id, "moved " + std::to_string(i))
        .run();
  }
  conn->prepare("DELETE FROM artifact_metadata WHERE artifact_id = ?").bind_all(rows[7].id).run();
  // Three artifacts whose rowid no longer finds their metadata.
  BOOST_REQUIRE(conn->query_int("SELECT COUNT(*) FROM artifacts a LEFT JOIN artifact_metadata m ON m.rowid = a.rowid "
                                "WHERE m.artifact_id IS NOT a.id") == 3);

  auto joined = repo->list_artifacts({}, 0, 100).items;  // the LEFT JOIN: what each row must get
  BOOST_REQUIRE(joined.size() == 10u);
  auto key = [](const artifact_row& a) {
    return a.id + "|" + a.description.value_or("-") + "|" + a.tags.value_or("-") + "|" + a.aliases.value_or("-") +
           "|" + a.metadata_json.value_or("-");
  };
  std::set<std::string> want;
  for (auto& a : joined) want.insert(key(a));
  BOOST_TEST(want.count(rows[2].id + "|moved 2|-|-|-") == 1u);
  BOOST_TEST(want.count(rows[7].id + "|-|-|-|-") == 1u);
  BOOST_TEST(want.count(rows[3].id + "|about n3|x,y|-|{\"k\":3}") == 1u);
  for (std::size_t parts : {1u, 2u, 3u, 10u}) {
    std::set<std::string> got;
    std::size_t n = 0;
    for (auto part : repo->artifact_parts(parts))
      repo->for_each_artifact(part, [&](artifact_row&& a) {
        got.insert(key(a));
        ++n;
      });
    BOOST_TEST(n == 10u);
    BOOST_TEST(got == want, "in " << parts << " parts");
  }
}

BOOST_AUTO_TEST_CASE(artifact_without_project_is_refused) {
  BOOST_CHECK_THROW(repo->upsert_artifacts({artifact("nope", "x", "skill", false)}), db_error);
}

BOOST_AUTO_TEST_CASE(artifact_filters_and_delete) {
  repo->create_project(project("a", "A"));
  repo->create_project(project("b", "B"));
  repo->upsert_artifacts({artifact("a", "one", "skill", false), artifact("a", "two", "command", true),
                          artifact("b", "three", "skill", true)});
  artifact_filter f;
  f.type = "skill";
  BOOST_TEST(repo->list_artifacts(f, 0, 100).total == 2);
  f.is_outdated = true;
  auto page = repo->list_artifacts(f, 0, 100);
  BOOST_REQUIRE(page.total == 1);
  BOOST_TEST(page.items[0].name == "three");
  BOOST_TEST(*page.items[0].description == "about three");
  artifact_filter of_a;
  of_a.project_id = "a";
  BOOST_TEST(repo->list_artifacts(of_a, 0, 100).total == 2);
  repo->delete_artifacts({"a:.claude:command:two", "a:.claude:agent:never-cached"});
  auto left = repo->list_artifacts(of_a, 0, 100);
  BOOST_REQUIRE(left.total == 1);
  BOOST_TEST(left.items[0].id == "a:.claude:skill:one");
}

BOOST_AUTO_TEST_CASE(stale_by_ttl_and_invalidate) {
  auto fresh = project("a", "A");
  fresh.last_fetched = now_micros();
  auto old = project("b", "B");
  old.last_fetched = now_micros() - 400LL * 60 * 1000000;
  repo->create_project(fresh);
  repo->create_project(old);
  auto stale = repo->stale_projects(now_micros(), 360);
  BOOST_REQUIRE(stale.size() == 1u);
  BOOST_TEST(stale[0].id == "b");
  BOOST_TEST(repo->invalidate(std::string("a")) == 1);
  auto a = repo->all_projects().at(0);
  BOOST_TEST(a.status == "stale");
  BOOST_TEST(!a.last_fetched);
  BOOST_TEST(repo->invalidate(std::nullopt) == 2);
}

BOOST_AUTO_TEST_CASE(transaction_rolls_back_unless_committed) {
  {
    transaction tx(*conn);
    repo->create_project(project("a", "A"));
  }
  BOOST_TEST(repo->all_projects().empty());
  {
    transaction tx(*conn);
    repo->create_project(project("a", "A"));
    tx.commit();
  }
  BOOST_TEST(repo->all_projects().size() == 1u);
}

#ifdef __linux__
namespace {
// SQLite's temporary files (statement journals among them) open under this prefix, unlinked.
int sqlite_temp_files_open() {
  int n = 0;
  std::error_code ec;
  for (auto& fd : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    auto target = std::filesystem::read_symlink(fd.path(), ec);
    if (!ec && target.string().find("etilqs_") != std::string::npos) ++n;
  }
  return n;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_statement_journal_stays_in_memory) {
  // An UPDATE of every row, second in its transaction, keeps each page it changes in a
  // statement journal: 300 KB here, which SQLite would write to a temporary file past 64 KiB.
  conn->exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)");
  {
    transaction tx(*conn);
    for (int i = 0; i < 2000; ++i)
      conn->exec("INSERT INTO t (v) VALUES ('" + std::to_string(i) + std::string(80, 'x') + "')");
    tx.commit();
  }
  transaction tx(*conn);
  conn->exec("INSERT INTO t (v) VALUES ('first')");
  conn->exec("UPDATE t SET v = v || 'y'");
  BOOST_TEST(conn->changes() == 2001);
  BOOST_TEST(sqlite_temp_files_open() == 0);
  tx.commit();
}
#endif

BOOST_AUTO_TEST_CASE(readers_see_committed_data_while_a_writer_holds_a_transaction) {
  repo->create_project(project("a", "A"));
  connection reader(path, connection::mode::read_only);
  repository rrepo(reader);
  transaction tx(*conn);
  repo->create_project(project("b", "B"));
  // WAL: the reader is not blocked and sees the last committed state.
  BOOST_TEST(rrepo.all_projects().size() == 1u);
  tx.commit();
  BOOST_TEST(rrepo.all_projects().size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_second_writer_waits_then_proceeds) {
  using clock = std::chrono::steady_clock;
  connection other(path);
  std::atomic<bool> entering{false};
  clock::time_point began{};
  auto tx = std::make_unique<transaction>(*conn);
  repo->create_project(project("a", "A"));
  std::thread t([&] {
    entering = true;
    transaction tx2(other);  // blocks in BEGIN IMMEDIATE until the first commits
    began = clock::now();
    repository(other).create_project(project("b", "B"));
    tx2.commit();
  });
  while (!entering) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polling a flag
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // room to fail: an unblocked BEGIN returns now
  auto before_commit = clock::now();
  tx->commit();
  tx.reset();
  t.join();
  // The second writer's BEGIN returned only once the first had committed.
  BOOST_TEST((began >= before_commit));
  BOOST_TEST(repo->all_projects().size() == 2u);
}

BOOST_AUTO_TEST_CASE(marketplace_meta_and_fingerprints) {
  marketplace_rows market(repo->conn());
  fingerprint_rows fps(repo->conn());
  marketplace_row m{"l1", "Listing", "skill", "https://x", std::string("desc"), now_micros(), std::string("{\"a\":1}")};
  marketplace_row old{"l2", "Old", "skill", "https://y", std::nullopt, now_micros() - 48LL * 3600 * 1000000, std::nullopt};
  market.upsert({m, old});
  BOOST_TEST(market.list(std::nullopt, 0, 10).total == 2);
  BOOST_TEST(market.purge_older_than(now_micros() - 24LL * 3600 * 1000000) == 1);
  BOOST_TEST(market.list(std::string("skill"), 0, 10).items.at(0).data.value() == "{\"a\":1}");
  BOOST_TEST(!repo->get_meta("k"));
  repo->set_meta("k", "v1");
  repo->set_meta("k", "v2");
  BOOST_TEST(*repo->get_meta("k") == "v2");
  fps.upsert({{"/a", 1, 2, 3, "h", "d", now_micros()}, {"/b", 1, 2, 3, "h", "d", 0}});
  BOOST_TEST(fps.count() == 2);
  BOOST_TEST((fps.paths_seen_before(1) == std::vector<std::string>{"/b"}));
  repo->create_project(project("a", "A"));
  repo->clear_all();
  BOOST_TEST(repo->all_projects().empty());
  BOOST_TEST(fps.count() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
