// The rows kept at a clean stop: read back exactly, and refused (never half-read) whenever the
// file or the database it describes is not what it was.
#include <boost/test/unit_test.hpp>

#include "cache/snapshot_file.hpp"
#include "db/connection.hpp"
#include "support/world.hpp"

using namespace projcache;
using namespace projcache::cache;
using projcache::test::temp_dir;
namespace fs = std::filesystem;

namespace {
db::project_row project(const std::string& id, bool fetched) {
  db::project_row p;
  p.id = id;
  p.name = "name of " + id;
  p.path = "/dev/" + id;
  if (fetched) p.last_fetched = 1'700'000'000'123'456;
  else p.description = "no fetch yet";
  p.created_at = 1'600'000'000'000'001;
  p.updated_at = 1'650'000'000'000'002;
  p.status = fetched ? "active" : "error";
  if (!fetched) p.error_message = "x.toml:3: bad";
  return p;
}

// Every field set, each to a text of its own, so a field read into another's place shows.
artifact_ptr artifact(const std::string& project, int n) {
  db::artifact_row a;
  auto v = [&](const char* what) { return std::string(what) + "-" + std::to_string(n); };
  a.id = project + ":.claude:skill:" + v("a");
  a.project_id = project;
  a.name = v("name");
  a.type = n % 2 ? "skill" : "agent";
  a.source = v("source");
  a.deployed_version = v("dv");
  if (n % 3) a.upstream_version = v("uv");
  a.is_outdated = n % 2;
  a.local_modified = n % 3 == 0;
  a.created_at = 1'000 + n;
  a.updated_at = 2'000 + n;
  a.profile_root = ".claude";
  a.from_collection = v("coll");
  a.artifact_path = v("path");
  a.deployed_hash = v("dh");
  a.local_hash = v("lh");
  a.collection_hash = "shared hash";  // the same text in every row
  a.drift = n % 2 ? "outdated" : "synced";
  a.deployed_at = v("at");
  a.description = v("desc");
  a.tags = v("tags");
  if (n % 4) a.aliases = v("aliases");
  a.metadata_json = "{\"n\":" + std::to_string(n) + "}";
  return std::make_shared<const db::artifact_row>(std::move(a));
}

stored_rows sample() {
  stored_rows r;
  r.projects = {project("p1", true), project("p2", false), project("p3", true)};
  for (int n = 0; n < 5; ++n) r.artifacts["p1"].push_back(artifact("p1", n));
  for (int n = 5; n < 7; ++n) r.artifacts["p3"].push_back(artifact("p3", n));
  return r;  // p2 has no rows
}

std::string text_of(const db::project_row& p) {
  return p.id + "|" + p.name + "|" + p.path + "|" + p.description.value_or("<null>") + "|" +
         std::to_string(p.created_at) + "|" + std::to_string(p.updated_at) + "|" +
         (p.last_fetched ? std::to_string(*p.last_fetched) : "<null>") + "|" + p.status + "|" +
         p.error_message.value_or("<null>");
}

std::string text_of(const db::artifact_row& a) {
  std::string out = a.id;
  for (auto* t : {&a.project_id, &a.name, &a.type, &a.source, &a.deployed_version, &a.upstream_version, &a.profile_root,
                  &a.from_collection, &a.artifact_path, &a.deployed_hash, &a.local_hash, &a.collection_hash, &a.drift,
                  &a.deployed_at, &a.description, &a.tags, &a.aliases, &a.metadata_json})
    out += "|" + (t->has_value() ? **t : std::string("<null>"));
  return out + "|" + std::to_string(a.is_outdated) + std::to_string(a.local_modified) + "|" +
         std::to_string(a.created_at) + "|" + std::to_string(a.updated_at);
}

std::vector<std::string> lines_of(const stored_rows& r) {
  std::vector<std::string> out;
  for (auto& p : r.projects) out.push_back(text_of(p));
  for (auto& [id, rows] : r.artifacts)
    for (auto& a : rows) out.push_back(id + " " + text_of(*a));
  std::sort(out.begin(), out.end());
  return out;
}

db_identity some_identity() {
  return {123456, 1'700'000'000'000'000'000, std::string(100, 'h')};
}
}  // namespace

BOOST_AUTO_TEST_SUITE(snapshot_file_tests)

BOOST_AUTO_TEST_CASE(rows_read_back_exactly) {
  auto rows = sample();
  auto bytes = encode_snapshot(some_identity(), rows);
  std::string why;
  auto back = decode_snapshot(bytes, some_identity(), why);
  BOOST_REQUIRE_MESSAGE(back, why);
  BOOST_TEST(lines_of(*back) == lines_of(rows), boost::test_tools::per_element());
  BOOST_TEST(back->artifacts.count("p2") == 0u);
  // Equal texts come back as one interned copy, as the database's load gives them.
  BOOST_TEST((back->artifacts["p1"][0]->collection_hash == back->artifacts["p3"][1]->collection_hash));
}

BOOST_AUTO_TEST_CASE(another_database_file_is_refused) {
  auto bytes = encode_snapshot(some_identity(), sample());
  for (int change = 0; change < 3; ++change) {
    auto other = some_identity();
    if (change == 0) other.size += 4096;
    if (change == 1) other.mtime_ns += 1;
    if (change == 2) other.header[24] ^= 1;  // SQLite's change counter
    std::string why;
    BOOST_TEST(!decode_snapshot(bytes, other, why));
    BOOST_TEST(why == "the database changed after it was written");
  }
}

BOOST_AUTO_TEST_CASE(a_torn_or_damaged_file_is_refused_whole) {
  auto bytes = encode_snapshot(some_identity(), sample());
  std::string why;
  for (std::size_t len : {std::size_t{0}, std::size_t{7}, std::size_t{100}, bytes.size() / 2, bytes.size() - 1}) {
    BOOST_TEST(!decode_snapshot(std::string_view(bytes).substr(0, len), some_identity(), why), len);
    BOOST_TEST(!why.empty());
  }
  for (std::size_t at : {std::size_t{200}, bytes.size() / 2, bytes.size() - 1}) {
    auto bent = bytes;
    bent[at] ^= 0x40;
    BOOST_TEST(!decode_snapshot(bent, some_identity(), why), at);
    BOOST_TEST(why == "it is torn or damaged");
  }
  auto other_version = bytes;
  other_version[8] ^= 1;
  BOOST_TEST(!decode_snapshot(other_version, some_identity(), why));
  BOOST_TEST(why == "it was written by another version or machine");
  BOOST_TEST(!decode_snapshot(std::string(bytes.size(), 'x'), some_identity(), why));
  BOOST_TEST(why == "it is not a projcache snapshot");
}

BOOST_AUTO_TEST_CASE(the_file_is_read_once_and_only_while_the_database_is_unchanged) {
  temp_dir dir;
  auto db = dir.path() / "projcache.db";
  { db::connection c(db.string()); c.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)"); }
  BOOST_REQUIRE(keep_snapshot_file(db, sample()));
  std::string why;
  auto back = take_snapshot_file(db, why);
  BOOST_REQUIRE_MESSAGE(back, why);
  BOOST_TEST(lines_of(*back) == lines_of(sample()), boost::test_tools::per_element());
  BOOST_TEST(!fs::exists(snapshot_file_of(db)));
  BOOST_TEST(!take_snapshot_file(db, why));  // once
  BOOST_TEST(why.empty());                    // there was none: nothing to say

  BOOST_REQUIRE(keep_snapshot_file(db, sample()));
  { db::connection c(db.string()); c.exec("INSERT INTO t VALUES (2)"); }  // folded into the file at close
  BOOST_TEST(!take_snapshot_file(db, why));
  BOOST_TEST(why == "the database changed after it was written");
  BOOST_TEST(!fs::exists(snapshot_file_of(db)));  // and gone all the same

  BOOST_REQUIRE(keep_snapshot_file(db, sample()));
  db::connection open_writer(db.string());
  open_writer.exec("INSERT INTO t VALUES (3)");  // in the WAL while this connection stays open
  BOOST_TEST(!take_snapshot_file(db, why));
  BOOST_TEST(why == "the database's WAL holds writes made after it");
  BOOST_TEST(!keep_snapshot_file(db, sample()));  // nor is one kept while the WAL holds writes
  BOOST_TEST(!fs::exists(snapshot_file_of(db)));
}

BOOST_AUTO_TEST_SUITE_END()
