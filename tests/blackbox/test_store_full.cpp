// A full disk under the database: the server keeps serving from memory, says the store is
// degraded, marks what it could not write, and resumes by itself when space returns.
// The disk is a real one: a 2 MiB tmpfs (the suite runs as root, as CI does).
#include <boost/test/unit_test.hpp>
#include <csignal>

#include "server_fixture.hpp"
#include "support/small_disk.hpp"

using namespace projcache::test;
namespace json = boost::json;

namespace {
json::object project_of(std::uint16_t port, const std::string& id) {
  return http_get(port, "/api/v1/cache/projects/" + url_encode(id)).json().as_object();
}
json::object store_of(std::uint16_t port) {
  return http_get(port, "/api/v1/cache/status").json().at("store").as_object();
}
}  // namespace

BOOST_AUTO_TEST_SUITE(store_full)

BOOST_AUTO_TEST_CASE(a_full_disk_degrades_the_store_and_space_coming_back_heals_it) {
  temp_dir d;
  auto w = build_reference_world(d.path());
  age_tree(w.home);
  age_tree(w.dev);
  small_disk disk(d.path() / "disk", "2m");
  env_map env{{"SKILLMEAT_HOME", w.home.string()},
              {"SKILLMEAT_CACHE_SEARCH_ROOTS", w.dev.string()},
              {"SKILLMEAT_CACHE_PATH", (disk.dir / "projcache.db").string()},
              {"SKILLMEAT_CACHE_DEBOUNCE_MS", "30"},
              {"SKILLMEAT_CACHE_RETRY_BASE_SECONDS", "0.2"}};
  auto proc = std::make_unique<server_process>(std::vector<std::string>{}, env);
  auto port = proc->port();
  BOOST_REQUIRE(eventually([&] { return http_get(port, "/readyz").status == 200; }));
  BOOST_TEST(!store_of(port)["degraded"].as_bool());
  const std::string pm = w.app_id + ":.claude:agent:pm";

  ws_client events(port);
  events.send(R"({"op":"subscribe","types":["refresh_error"]})");
  BOOST_REQUIRE(events.read_json().at("op").as_string() == "subscribed");

  disk.fill(disk.dir / "filler");
  // An edit the watcher sees: its rows cannot be written.
  const std::string edited = "You are a product manager. Edited again, on a full disk.\n";
  write_file(w.dev / "app/.claude/agents/pm.md", edited);
  auto err = events.read_json(std::chrono::milliseconds(20000)).as_object();
  BOOST_TEST(err["type"].as_string() == "refresh_error");
  BOOST_TEST(std::string(err["error"].as_string()).find("the disk is full") != std::string::npos);
  BOOST_TEST(proc->running());
  BOOST_TEST(http_get(port, "/healthz").status == 200);
  auto store = store_of(port);
  BOOST_TEST(store["degraded"].as_bool());
  BOOST_TEST(std::string(store["detail"].as_string()).find("the disk is full") != std::string::npos);
  BOOST_TEST(store["failed_writes"].as_int64() >= 1);
  // Reads go on: every project is still served, the edited one marked error in memory.
  BOOST_TEST(http_get(port, "/api/v1/cache/projects").json().at("total").as_int64() == 4);
  BOOST_TEST(project_of(port, w.app_id)["status"].as_string() == "error");
  // Writes from the API do not take the server down either.
  BOOST_TEST(http_post(port, "/api/v1/cache/invalidate", R"({"project_id":null})").status == 200);
  BOOST_TEST(proc->running());

  // A restart while the disk is still full serves as well.
  BOOST_TEST(proc->stop(SIGTERM) == 0);
  proc = std::make_unique<server_process>(std::vector<std::string>{}, env);
  port = proc->port();
  BOOST_REQUIRE(eventually([&] { return http_get(port, "/readyz").status == 200; }));
  BOOST_TEST(http_get(port, "/api/v1/cache/projects").json().at("total").as_int64() == 4);

  // Space comes back: the store heals without a restart or a request, and the edit is written.
  fs::remove(disk.dir / "filler");
  BOOST_TEST(eventually([&] { return !store_of(port)["degraded"].as_bool(); }, std::chrono::milliseconds(30000)));
  BOOST_TEST(eventually([&] {
    auto p = project_of(port, w.app_id);
    if (p["status"].as_string() != "active") return false;
    for (auto& a : p["artifacts"].as_array())
      if (a.at("id").as_string() == pm) return a.at("local_hash").as_string() == sha256_hex(edited);
    return false;
  }, std::chrono::milliseconds(30000)));
  // Nothing was lost: a restart reads the same rows back from the database.
  auto before = project_of(port, w.app_id);
  BOOST_TEST(proc->stop(SIGTERM) == 0);
  proc = std::make_unique<server_process>(std::vector<std::string>{}, env);
  port = proc->port();
  BOOST_REQUIRE(eventually([&] { return http_get(port, "/readyz").status == 200; }));
  auto after = project_of(port, w.app_id);
  BOOST_TEST(json::serialize(after["artifacts"]) == json::serialize(before["artifacts"]));
  BOOST_TEST(after["status"].as_string() == "active");
}

BOOST_AUTO_TEST_SUITE_END()
