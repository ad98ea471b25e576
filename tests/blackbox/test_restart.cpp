// What a restart must not hide: edits made while the server was down.
#include <boost/test/unit_test.hpp>
#include <csignal>

#include "server_fixture.hpp"
#include "support/damage.hpp"

using namespace projcache::test;
namespace json = boost::json;

namespace {
std::string drift_of(const live_server& srv, const std::string& project_id, const std::string& artifact_id) {
  auto detail = srv.get_json("/api/v1/cache/projects/" + url_encode(project_id));
  for (auto& a : detail["artifacts"].as_array())
    if (a.at("id").as_string() == artifact_id) return std::string(a.at("drift").as_string());
  return "absent";
}
}  // namespace

BOOST_AUTO_TEST_SUITE(restart)

BOOST_AUTO_TEST_CASE(an_edit_made_while_the_server_was_down_shows_up_after_a_restart) {
  live_server srv;
  const std::string canvas = srv.w.app_id + ":.claude:skill:canvas-design";
  BOOST_REQUIRE(drift_of(srv, srv.w.app_id, canvas) == "synced");
  BOOST_REQUIRE(srv.proc->stop(SIGTERM) == 0);

  // Edited locally while nobody watched; the cached rows are still fresh (TTL 6 h).
  write_file(srv.w.dev / "app/.claude/skills/canvas-design/SKILL.md", "edited while the server was down\n");
  srv.proc = std::make_unique<server_process>(std::vector<std::string>{}, srv.env);
  BOOST_REQUIRE(eventually([&] { return srv.get("/readyz").status == 200; }));

  // Without a refresh or a watcher event, the start-up check finds it and says so. It runs at
  // background priority, so under load it may take a while: wait for its event (replayed from
  // since 0 whenever it came), after which the rows it wrote are already served.
  ws_client c(srv.port());
  c.send(R"({"op":"subscribe","since":0,"types":["changes_detected"]})");
  BOOST_REQUIRE(c.read_json().at("op").as_string() == "subscribed");
  auto ev = c.read_json(std::chrono::seconds(90)).as_object();
  BOOST_TEST(ev["project_id"].as_string() == srv.w.app_id);
  auto& changed = ev["details"].at("changed").as_array();
  BOOST_TEST((std::find(changed.begin(), changed.end(), json::value(canvas)) != changed.end()));
  BOOST_TEST(drift_of(srv, srv.w.app_id, canvas) == "modified");
  // An unchanged project was verified too, and stays as it was.
  BOOST_TEST(srv.get_json("/api/v1/cache/projects/" + url_encode(srv.w.web_id))["artifact_count"].as_int64() == 2);
}

// A clean stop keeps the rows beside the database; the next start reads them from there (once:
// the file goes) and serves what the last run served.
BOOST_AUTO_TEST_CASE(a_clean_stop_keeps_the_rows_for_the_next_start_which_serves_them_unchanged) {
  live_server srv(std::map<std::string, std::string>{{"SKILLMEAT_CACHE_LOG_LEVEL", "debug"}});
  BOOST_REQUIRE(eventually([&] { return !srv.get_json("/api/v1/cache/status")["refresh_progress"].at("running").as_bool(); }));
  auto artifacts = srv.get("/api/v1/cache/artifacts?limit=1000").body;
  auto projects = srv.get_json("/api/v1/cache/projects?limit=100").at("items").as_array();
  BOOST_REQUIRE(srv.proc->stop(SIGTERM) == 0);
  auto kept = srv.w.home / "cache/projcache.db.snapshot";
  BOOST_TEST(std::filesystem::exists(kept));

  srv.proc = std::make_unique<server_process>(std::vector<std::string>{}, srv.env);
  BOOST_TEST(!std::filesystem::exists(kept));
  // Read before the start's check of the cached projects can write anything: the kept rows.
  BOOST_TEST(srv.get("/api/v1/cache/artifacts?limit=1000").body == artifacts);
  auto again = srv.get_json("/api/v1/cache/projects?limit=100").at("items").as_array();
  BOOST_REQUIRE(again.size() == projects.size());
  for (std::size_t i = 0; i < again.size(); ++i)
    for (auto* key : {"id", "name", "path", "status", "description", "error_message", "artifact_count", "drift_counts"})
      BOOST_TEST(json::serialize(again[i].at(key)) == json::serialize(projects[i].at(key)), key);
  BOOST_TEST(srv.proc->stderr_text().find("read the rows kept at the last stop") != std::string::npos);
}

// The start's check of the cached projects is a full pass like any other: refresh_progress
// counts it, so a client waiting for the cache to settle (and the benchmarks reading memory)
// can tell it from an idle server.
BOOST_AUTO_TEST_CASE(the_start_up_check_of_cached_projects_shows_in_refresh_progress) {
  live_server srv;
  // The ones in error are stale (the first pass takes them); the check has every other one.
  std::int64_t projects = 0;
  auto listing = srv.get_json("/api/v1/cache/projects?limit=100");
  for (auto& p : listing.at("items").as_array())
    if (p.at("status").as_string() == "active") ++projects;
  BOOST_REQUIRE(projects >= 2);
  BOOST_REQUIRE(srv.proc->stop(SIGTERM) == 0);
  srv.proc = std::make_unique<server_process>(std::vector<std::string>{}, srv.env);
  BOOST_REQUIRE(eventually([&] { return srv.get("/readyz").status == 200; }));
  // The first pass had only the stale ones; the check that follows has the others, counted.
  json::object last;
  bool settled = eventually([&] {
    last = srv.get_json("/api/v1/cache/status").at("refresh_progress").as_object();
    return !last.at("running").as_bool() && last.at("total").as_int64() == projects &&
           last.at("done").as_int64() == projects;
  });
  BOOST_TEST(settled, json::serialize(last));
}

// The port opens before the integrity check ends (it reads every page): a file damaged where
// the start-up load does not read is found by the check after the ready line, moved aside and
// rebuilt from disk, and the server serves on.
BOOST_AUTO_TEST_CASE(a_file_found_damaged_after_the_ready_line_is_rebuilt) {
  live_server srv;
  auto before = srv.get_json("/api/v1/cache/status").at("total_artifacts").as_int64();
  BOOST_REQUIRE(srv.proc->stop(SIGTERM) == 0);
  auto db = srv.w.home / "cache/projcache.db";
  damage_table_root(db, "file_fingerprints");
  srv.proc = std::make_unique<server_process>(std::vector<std::string>{}, srv.env);
  ws_client c(srv.port());
  c.send(R"({"op":"subscribe","since":0,"types":["cache_rebuilt"]})");
  BOOST_REQUIRE(c.read_json().at("op").as_string() == "subscribed");
  auto ev = c.read_json(std::chrono::seconds(60)).as_object();
  auto moved = std::string(ev["details"].at("moved_aside").as_string());
  BOOST_TEST(moved.find("projcache.db.corrupt-") != std::string::npos);
  BOOST_TEST(fs::exists(moved));
  BOOST_REQUIRE(eventually([&] { return srv.get("/readyz").status == 200; }));
  BOOST_TEST(srv.get_json("/api/v1/cache/status").at("total_artifacts").as_int64() == before);
}

BOOST_AUTO_TEST_SUITE_END()
