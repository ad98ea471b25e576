#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "db/connection.hpp"
#include "db/error.hpp"
#include "db/migrations.hpp"
#include "db/repository.hpp"
#include "db/store.hpp"
#include "support/world.hpp"

using namespace projcache::db;
using projcache::test::temp_dir;
using projcache::test::write_file;
namespace fs = std::filesystem;

namespace {
std::string schema_of(connection& c) {
  std::string out;
  auto st = c.prepare("SELECT type, name, COALESCE(sql, '') FROM sqlite_master WHERE name != 'schema_migrations' ORDER BY type, name");
  while (st.step()) out += st.text(0) + "|" + st.text(1) + "|" + st.text(2) + "\n";
  return out;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(migrations)

BOOST_AUTO_TEST_CASE(embedded_migrations_parse) {
  auto all = parse_migrations(embedded_migrations());
  BOOST_REQUIRE(!all.empty());
  BOOST_TEST(all.front().version == 1);
  BOOST_TEST(all.front().name == "initial");
  BOOST_TEST(all.front().checksum.size() == 64u);
}

BOOST_AUTO_TEST_CASE(fresh_up_twice_is_a_noop) {
  temp_dir d;
  connection c((d.path() / "m.db").string());
  migrator m(c);
  const int n = static_cast<int>(parse_migrations(embedded_migrations()).size());
  BOOST_TEST(n >= 2);
  BOOST_TEST(m.up() == n);
  auto before = schema_of(c);
  BOOST_TEST(m.up() == 0);
  BOOST_TEST(schema_of(c) == before);
  for (const char* table : {"projects", "artifacts", "artifact_metadata", "marketplace", "cache_metadata", "file_fingerprints",
                            "registered_projects"})
    BOOST_TEST(c.query_int(std::string("SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='") + table + "'") == 1);
  BOOST_TEST(c.query_int("SELECT COUNT(*) FROM sqlite_master WHERE type='trigger'") == 2);
}

BOOST_AUTO_TEST_CASE(down_then_up_restores_the_schema) {
  temp_dir d;
  connection c((d.path() / "m.db").string());
  migrator m(c);
  m.up();
  auto before = schema_of(c);
  const int n = m.current_version();
  BOOST_TEST(m.down(n) == n);
  BOOST_TEST(m.current_version() == 0);
  BOOST_TEST(c.query_int("SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='projects'") == 0);
  BOOST_TEST(m.down(1) == 0);
  m.up();
  BOOST_TEST(schema_of(c) == before);
}

BOOST_AUTO_TEST_CASE(changed_applied_migration_is_refused) {
  temp_dir d;
  connection c((d.path() / "m.db").string());
  migrator(c).up();
  auto files = embedded_migrations();
  std::vector<std::pair<std::string, std::string>> owned;
  for (auto& [n, t] : files) owned.emplace_back(std::string(n), std::string(t) + (std::string(n).ends_with(".up.sql") ? "\n-- edited\n" : ""));
  std::vector<std::pair<std::string_view, std::string_view>> views(owned.begin(), owned.end());
  migrator edited(c, parse_migrations(views));
  BOOST_CHECK_EXCEPTION(edited.up(), migration_error,
                        [](const migration_error& e) { return std::string(e.what()).find("checksum") != std::string::npos; });
  auto st = edited.status();
  BOOST_TEST(!st.at(0).checksum_matches);
}

BOOST_AUTO_TEST_CASE(existing_database_keeps_its_rows) {
  temp_dir d;
  auto path = d.path() / "m.db";
  prepare_store(path);
  {
    connection c(path.string());
    repository r(c);
    projcache::db::project_row p;
    p.id = "x";
    p.name = "X";
    p.path = "/x";
    r.upsert_project(p);
  }
  auto report = prepare_store(path);
  BOOST_TEST(report.migrations_applied == 0);
  BOOST_TEST(!report.moved_aside);
  connection c(path.string());
  BOOST_TEST(repository(c).all_projects().size() == 1u);
}

BOOST_AUTO_TEST_CASE(garbage_file_is_moved_aside) {
  temp_dir d;
  auto path = d.path() / "cache" / "projcache.db";
  write_file(path, "this is not a database, just some text that is long enough");
  auto report = prepare_store(path);
  BOOST_REQUIRE(report.moved_aside.has_value());
  BOOST_TEST(report.moved_aside->find("projcache.db.corrupt-") != std::string::npos);
  BOOST_TEST(fs::exists(*report.moved_aside));
  BOOST_TEST(projcache::test::read_file(*report.moved_aside).starts_with("this is not a database"));
  connection c(path.string());
  BOOST_TEST(c.query_int("SELECT COUNT(*) FROM projects") == 0);
}

BOOST_AUTO_TEST_CASE(damaged_pages_are_detected) {
  temp_dir d;
  auto path = d.path() / "projcache.db";
  prepare_store(path);
  {
    connection c(path.string());
    repository r(c);
    for (int i = 0; i < 400; ++i) {
      projcache::db::project_row p;
      p.id = "id" + std::to_string(i);
      p.name = std::string(200, 'n') + std::to_string(i);
      p.path = "/p/" + std::to_string(i);
      r.upsert_project(p);
    }
    c.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  // Overwrite the middle of the file (keeping the header) with garbage.
  auto size = fs::file_size(path);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    std::string junk(8192, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto report = prepare_store(path);
  BOOST_TEST(report.moved_aside.has_value());
  BOOST_TEST(check_store(path, true) == "ok");
}

BOOST_AUTO_TEST_CASE(unwritable_directory_is_a_clear_error) {
  BOOST_CHECK_EXCEPTION(prepare_store("/proc/projcache-cannot-exist/x.db"), std::exception, [](const std::exception& e) {
    return std::string(e.what()).find("/proc/projcache-cannot-exist") != std::string::npos;
  });
}

BOOST_AUTO_TEST_SUITE_END()
