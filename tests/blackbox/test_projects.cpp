// Which projects the cache holds: registering and forgetting explicit projects at run time,
// SkillMeat's ids for projects we do not know yet, ids with '/', and SkillMeat's clear route.
#include <boost/test/unit_test.hpp>
#include <csignal>

#include "server_fixture.hpp"

using namespace projcache::test;
namespace json = boost::json;

namespace {
std::string s(const json::value& v) { return v.is_null() ? "null" : std::string(v.as_string()); }

// A project outside the search roots: one command deployed from the reference world's collection.
fs::path outside_project(const fs::path& root, const std::string& name) {
  fs::path p = root / "outside" / name;
  write_file(p / ".claude/commands/review.md", "---\nversion: 1.0.0\n---\nold\n");
  write_file(p / ".claude/.skillmeat-deployed.toml",
             "[[deployed]]\nartifact_name = \"review\"\nartifact_type = \"command\"\nfrom_collection = \"default\"\n"
             "artifact_path = \"commands/review.md\"\n");
  age_tree(p);
  return fs::canonical(p);
}

std::string path_body(const fs::path& p) { return json::serialize(json::object{{"path", p.string()}}); }
std::string id_body(const std::string& id) { return json::serialize(json::object{{"project_id", id}}); }

http_reply del(const live_server& srv, const std::string& target) { return http_request(srv.port(), "DELETE", target); }

json::object next_of_type(ws_client& c, const std::string& type) {
  for (int i = 0; i < 50; ++i) {
    auto m = c.read_json().as_object();
    if (m.contains("type") && m.at("type").as_string() == type) return m;
  }
  BOOST_FAIL("no " << type << " event");
  return {};
}

std::unique_ptr<ws_client> subscribed(const live_server& srv) {
  auto c = std::make_unique<ws_client>(srv.port());
  c->send(R"({"op":"subscribe","types":["project_added","project_removed"]})");
  BOOST_REQUIRE(c->read_json().at("op").as_string() == "subscribed");
  return c;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(project_membership)

BOOST_AUTO_TEST_CASE(register_a_project_outside_the_search_roots_and_forget_it) {
  live_server srv;
  auto out = outside_project(srv.dir.path(), "tool");
  auto id = b64_id(out);
  auto events = subscribed(srv);

  auto r = srv.post("/api/v1/cache/projects", path_body(out), {{"Content-Type", "application/json"}});
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
  auto row = r.json().as_object();
  BOOST_TEST(s(row["id"]) == id);
  BOOST_TEST(s(row["path"]) == out.string());
  BOOST_TEST(s(row["status"]) == "active");  // answered after its first refresh
  BOOST_TEST(row["artifact_count"].as_int64() == 1);
  BOOST_TEST(row["artifacts"].as_array().size() == 1u);
  auto added = next_of_type(*events, "project_added");
  BOOST_TEST(s(added["project_id"]) == id);
  BOOST_TEST(s(added["details"].at("path")) == out.string());
  BOOST_TEST(srv.get_json("/api/v1/cache/status")["total_projects"].as_int64() == 5);

  // Registering again changes nothing and says so with 200.
  auto again = srv.post("/api/v1/cache/projects", path_body(out));
  BOOST_TEST(again.status == 200);
  BOOST_TEST(s(again.json().at("id")) == id);

  // Persisted: a restart on the same database finds it without being told.
  BOOST_TEST(srv.proc->stop(SIGTERM) == 0);
  srv.proc = std::make_unique<server_process>(std::vector<std::string>{}, srv.env);
  BOOST_REQUIRE(eventually([&] { return srv.get("/readyz").status == 200; }));
  BOOST_TEST(srv.get("/api/v1/cache/projects/" + id).status == 200);
  auto events2 = subscribed(srv);

  auto gone = del(srv, "/api/v1/cache/projects/" + url_encode(id));
  BOOST_REQUIRE_MESSAGE(gone.status == 200, gone.body);
  BOOST_TEST(gone.json().at("removed").as_bool());
  BOOST_TEST(s(next_of_type(*events2, "project_removed")["project_id"]) == id);
  BOOST_TEST(srv.get("/api/v1/cache/projects/" + id).status == 404);
  BOOST_TEST(srv.get_json("/api/v1/cache/status")["total_projects"].as_int64() == 4);

  auto twice = del(srv, "/api/v1/cache/projects/" + id);
  BOOST_TEST(twice.status == 404);
  BOOST_TEST(s(twice.json().at("detail")).find("not registered") != std::string::npos);
  // A project found under a search root was never registered: it cannot be forgotten.
  BOOST_TEST(del(srv, "/api/v1/cache/projects/" + srv.w.app_id).status == 404);
}

BOOST_AUTO_TEST_CASE(registering_refuses_what_is_not_a_project) {
  live_server srv;
  fs::create_directories(srv.dir.path() / "plain");
  auto r = srv.post("/api/v1/cache/projects", path_body(srv.dir.path() / "plain"));
  BOOST_TEST(r.status == 404);
  BOOST_TEST(s(r.json().at("detail")).find(".skillmeat-deployed.toml") != std::string::npos);
  auto missing = srv.post("/api/v1/cache/projects", path_body(srv.dir.path() / "nowhere"));
  BOOST_TEST(missing.status == 404);
  BOOST_TEST(s(missing.json().at("detail")).find("No folder") != std::string::npos);

  auto relative = srv.post("/api/v1/cache/projects", R"({"path":"some/dir"})");
  BOOST_TEST(relative.status == 422);
  BOOST_TEST(json::serialize(relative.json().at("detail").at(0).at("loc")) == R"(["body","path"])");
  BOOST_TEST(srv.post("/api/v1/cache/projects", "{}").status == 422);
  BOOST_TEST(srv.post("/api/v1/cache/projects", R"({"path":3})").status == 422);
  BOOST_TEST(srv.post("/api/v1/cache/projects", "{nope").status == 422);
  BOOST_TEST(srv.post("/api/v1/cache/projects", "").status == 422);
  BOOST_TEST(srv.get_json("/api/v1/cache/status")["total_projects"].as_int64() == 4);
}

BOOST_AUTO_TEST_CASE(skillmeat_ids_of_projects_we_do_not_know_yet) {
  live_server srv;
  auto one = outside_project(srv.dir.path(), "one");
  auto two = outside_project(srv.dir.path(), "two");

  // /cache/refresh: a decodable id whose folder holds a deployment is registered and refreshed.
  auto r = srv.post("/api/v1/cache/refresh", id_body(b64_id(one)));
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  BOOST_TEST(r.json().at("projects_refreshed").as_int64() == 1);
  BOOST_TEST(s(srv.get_json("/api/v1/cache/projects/" + b64_id(one))["status"]) == "active");
  // ... and anything else keeps its 404.
  auto nowhere = b64_id(srv.dir.path() / "nowhere");
  BOOST_TEST(srv.post("/api/v1/cache/refresh", id_body(nowhere)).status == 404);
  BOOST_TEST(srv.post("/api/v1/cache/refresh", id_body("not base64!")).status == 404);

  // /projects/cache/refresh: the same registration; an unknown id rescans and answers 200.
  auto p = srv.post("/api/v1/projects/cache/refresh", id_body(b64_id(two)));
  BOOST_REQUIRE_MESSAGE(p.status == 200, p.body);
  BOOST_TEST(p.json().at("success").as_bool());
  BOOST_TEST(srv.get("/api/v1/cache/projects/" + b64_id(two)).status == 200);
  auto rescan = srv.post("/api/v1/projects/cache/refresh", id_body(nowhere));
  BOOST_TEST(rescan.status == 200);
  BOOST_TEST(rescan.json().at("success").as_bool());
  BOOST_TEST(rescan.json().at("stats").at("entries").as_int64() == 6);
}

BOOST_AUTO_TEST_CASE(ids_with_a_slash_are_found_raw_and_percent_encoded) {
  live_server srv;
  // Find a folder name whose id (standard base64 of the path) contains '/'.
  fs::path out;
  // ('/' is the 6-bit group 63: "?" or "\xc3\xbf" (y with diaeresis) at the right offset.)
  for (int i = 0; i < 30 && out.empty(); ++i) {
    auto candidate = srv.dir.path() / "outside" / (std::string(static_cast<std::size_t>(i % 3), 'x') + "\xc3\xbc" + std::to_string(i) + (i % 2 ? "?" : "\xc3\xbf"));
    fs::create_directories(candidate);
    if (b64_id(fs::canonical(candidate)).find('/') != std::string::npos) out = candidate;
  }
  BOOST_REQUIRE(!out.empty());
  out = outside_project(srv.dir.path(), out.filename().string());
  auto id = b64_id(out);
  BOOST_REQUIRE(srv.post("/api/v1/cache/projects", path_body(out)).status == 201);
  BOOST_TEST(s(srv.get_json("/api/v1/cache/projects/" + id)["id"]) == id);
  BOOST_TEST(s(srv.get_json("/api/v1/cache/projects/" + url_encode(id))["id"]) == id);
  BOOST_TEST(del(srv, "/api/v1/cache/projects/" + id).status == 200);
}

BOOST_AUTO_TEST_CASE(clear_empties_and_rediscovers) {
  live_server srv;
  auto out = outside_project(srv.dir.path(), "kept");
  BOOST_REQUIRE(srv.post("/api/v1/cache/projects", path_body(out)).status == 201);
  auto before = srv.get_json("/api/v1/cache/projects/" + srv.w.app_id);
  auto events = subscribed(srv);

  auto r = srv.post("/api/v1/projects/cache/clear", "");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  auto body = r.json().as_object();
  BOOST_TEST(body["success"].as_bool());
  BOOST_TEST(body["projects_found"].as_int64() == 5);  // the four under dev/ and the registered one
  BOOST_TEST(s(body["message"]) == "Cache cleared and 5 projects rediscovered");
  BOOST_TEST(next_of_type(*events, "project_removed").contains("project_id"));
  BOOST_TEST(next_of_type(*events, "project_added").contains("project_id"));
  // The rows were rebuilt from disk: new rows, same derived content.
  auto after = srv.get_json("/api/v1/cache/projects/" + srv.w.app_id);
  BOOST_TEST(s(after["created_at"]) > s(before["created_at"]));
  BOOST_TEST(after["artifact_count"].as_int64() == before["artifact_count"].as_int64());
  BOOST_TEST(srv.get("/api/v1/cache/projects/" + b64_id(out)).status == 200);
}

BOOST_AUTO_TEST_CASE(skillmeats_rescan_succeeds_with_a_broken_project) {
  live_server srv;  // the reference world has a project with a malformed deployment file
  auto r = srv.post("/api/v1/projects/cache/refresh", "");
  BOOST_REQUIRE(r.status == 200);
  auto body = r.json().as_object();
  BOOST_TEST(body["success"].as_bool());
  BOOST_TEST(s(body["message"]) == "Cache refreshed successfully (1 project(s) with errors)");
  // The broken project's error is its own state; /cache/refresh still reports it.
  BOOST_TEST(s(srv.get_json("/api/v1/cache/projects/" + srv.w.broken_id)["status"]) == "error");
  auto strict = srv.post("/api/v1/cache/refresh", R"({"force":true})");
  BOOST_TEST(!strict.json().at("success").as_bool());
}

BOOST_AUTO_TEST_CASE(a_search_root_created_after_start_is_found_without_a_refresh) {
  temp_dir d;
  auto w = build_reference_world(d.path() / "world");
  age_tree(w.home);
  age_tree(w.dev);
  // Two levels of the root are missing at start: later/ and later/dev/.
  fs::path root = d.path() / "later" / "dev";
  server_process proc({}, {{"SKILLMEAT_HOME", w.home.string()}, {"SKILLMEAT_CACHE_SEARCH_ROOTS", root.string()},
                           {"SKILLMEAT_CACHE_DEBOUNCE_MS", "30"}});
  BOOST_REQUIRE(eventually([&] { return http_get(proc.port(), "/readyz").status == 200; }));
  BOOST_TEST(http_get(proc.port(), "/api/v1/cache/projects").json().at("total").as_int64() == 0);
  ws_client c(proc.port());
  c.send(R"({"op":"subscribe","types":["project_added"]})");
  BOOST_REQUIRE(c.read_json().at("op").as_string() == "subscribed");

  fs::create_directories(d.path() / "later");  // the watch moves down to later/ ...
  fs::rename(w.dev, root);  // ... and the whole tree arrives at once, as a clone or an unpack would
  BOOST_TEST(eventually([&] { return http_get(proc.port(), "/api/v1/cache/projects").json().at("total").as_int64() == 4; }));
  BOOST_TEST(c.read_json().at("type").as_string() == "project_added");
}

BOOST_AUTO_TEST_SUITE_END()
