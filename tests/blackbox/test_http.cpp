#define BOOST_TEST_MODULE blackbox
#include <boost/test/unit_test.hpp>

#include "server_fixture.hpp"

using namespace projcache::test;
namespace json = boost::json;

namespace {
std::string s(const json::value& v) { return v.is_null() ? "null" : std::string(v.as_string()); }
bool is_api_time(const json::value& v) {
  if (!v.is_string()) return false;
  auto t = std::string(v.as_string());
  return t.size() == 27 && t[10] == 'T' && t[19] == '.' && t.back() == 'Z';
}
struct api_fixture : live_server {};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(rest_routes, api_fixture)

BOOST_AUTO_TEST_CASE(status_fields) {
  auto st = get_json("/api/v1/cache/status");
  for (auto* k : {"total_projects", "total_artifacts", "stale_projects", "outdated_artifacts", "cache_size_bytes", "oldest_entry",
                  "newest_entry", "last_refresh", "refresh_job_status", "hit_rate", "hits", "misses", "watcher"})
    BOOST_TEST_CONTEXT(k) { BOOST_TEST(st.contains(k)); }
  BOOST_TEST(st["total_projects"].as_int64() == 4);
  BOOST_TEST(st["total_artifacts"].as_int64() == 8);
  BOOST_TEST(st["outdated_artifacts"].as_int64() == 2);
  BOOST_TEST(st["stale_projects"].as_int64() == 1);  // the broken one was never fetched
  BOOST_TEST(st["cache_size_bytes"].as_int64() > 0);
  BOOST_TEST(is_api_time(st["oldest_entry"]));
  BOOST_TEST(is_api_time(st["last_refresh"]));
  auto& job = st["refresh_job_status"].as_object();
  BOOST_TEST(job["is_running"].as_bool());
  BOOST_TEST(is_api_time(job["next_run_time"]));
  auto& w = st["watcher"].as_object();
  BOOST_TEST(w["running"].as_bool());
  BOOST_TEST(w["watches"].as_int64() > 0);
  BOOST_TEST(w["fallback_roots"].as_array().empty());
}

BOOST_AUTO_TEST_CASE(projects_list_filters_and_ranges) {
  auto all = get_json("/api/v1/cache/projects");
  BOOST_TEST(all["total"].as_int64() == 4);
  BOOST_TEST(all["skip"].as_int64() == 0);
  BOOST_TEST(all["limit"].as_int64() == 100);
  auto& items = all["items"].as_array();
  BOOST_TEST(s(items[0].at("name")) == "app");  // app, broken, deep, Web Frontend (case-insensitive)
  BOOST_TEST(s(items[3].at("name")) == "Web Frontend");
  auto& app = items[0].as_object();
  BOOST_TEST(s(app["id"]) == w.app_id);
  BOOST_TEST(s(app["path"]) == (w.dev / "app").string());
  BOOST_TEST(s(app["status"]) == "active");
  BOOST_TEST(is_api_time(app["last_fetched"]));
  BOOST_TEST(app["artifact_count"].as_int64() == 6);
  BOOST_TEST(get_json("/api/v1/cache/projects?status=error")["total"].as_int64() == 1);
  BOOST_TEST(get_json("/api/v1/cache/projects?status=stale")["total"].as_int64() == 1);
  BOOST_TEST(get_json("/api/v1/cache/projects?status=active")["total"].as_int64() == 3);
  auto page = get_json("/api/v1/cache/projects?skip=1&limit=2");
  BOOST_TEST(page["items"].as_array().size() == 2u);
  BOOST_TEST(page["total"].as_int64() == 4);
  for (auto* bad : {"limit=0", "limit=501", "skip=-1", "limit=abc"}) {
    auto r = get(std::string("/api/v1/cache/projects?") + bad);
    BOOST_TEST_CONTEXT(bad) {
      BOOST_TEST(r.status == 422);
      BOOST_TEST(r.json().at("detail").as_array()[0].at("loc").as_array()[0].as_string() == "query");
    }
  }
}

BOOST_AUTO_TEST_CASE(artifacts_with_all_our_fields) {
  auto page = get_json("/api/v1/cache/artifacts?project_id=" + url_encode(w.app_id));
  BOOST_TEST(page["total"].as_int64() == 6);
  for (auto& v : page["items"].as_array()) {
    auto& a = v.as_object();
    for (auto* k : {"id", "name", "type", "project_id", "deployed_version", "upstream_version", "is_outdated", "local_modified",
                    "drift", "source", "profile_root", "deployed_hash", "local_hash", "collection_hash", "updated_at"})
      BOOST_TEST_CONTEXT(k) { BOOST_TEST(a.contains(k)); }
    auto e = w.artifacts.at(s(a["id"]));
    BOOST_TEST(s(a["drift"]) == e.drift);
    BOOST_TEST(a["is_outdated"].as_bool() == e.is_outdated);
  }
  BOOST_TEST(get_json("/api/v1/cache/artifacts?is_outdated=yes")["total"].as_int64() == 2);
  BOOST_TEST(get_json("/api/v1/cache/artifacts?is_outdated=0")["total"].as_int64() == 6);
  BOOST_TEST(get_json("/api/v1/cache/artifacts?type=skill")["total"].as_int64() == 4);
  BOOST_TEST(get_json("/api/v1/cache/artifacts?project_id=nope")["total"].as_int64() == 0);
  BOOST_TEST(get("/api/v1/cache/artifacts?is_outdated=maybe").status == 422);
}

BOOST_AUTO_TEST_CASE(stale_artifacts_sorting_and_errors) {
  auto st = get_json("/api/v1/cache/stale-artifacts");
  BOOST_TEST(st["total"].as_int64() == 2);
  BOOST_TEST(!st.contains("skip"));
  auto& items = st["items"].as_array();
  BOOST_TEST(s(items[0].at("name")) == "lint");
  BOOST_TEST(s(items[1].at("version_difference")) == "minor version upgrade (0 -> 2)");
  BOOST_TEST(s(items[1].at("project_name")) == "app");
  auto desc = get_json("/api/v1/cache/stale-artifacts?sort_order=desc");
  BOOST_TEST(s(desc["items"].as_array()[0].at("name")) == "review");
  auto bad = get("/api/v1/cache/stale-artifacts?sort_by=size");
  BOOST_TEST(bad.status == 400);
  BOOST_TEST(s(bad.json().at("detail")) == "Invalid sort_by field: size. Valid options: name, type, project, version_diff");
  BOOST_TEST(get_json("/api/v1/cache/stale-artifacts?type=command")["total"].as_int64() == 1);
}

BOOST_AUTO_TEST_CASE(search_scores_and_validation) {
  auto r = get_json("/api/v1/cache/search?query=DOCS");
  BOOST_TEST(r["total"].as_int64() == 2);
  BOOST_TEST(r["items"].as_array()[0].at("score").as_double() == 100.0);
  BOOST_TEST(s(r["query"]) == "DOCS");
  BOOST_TEST(r["limit"].as_int64() == 50);
  BOOST_TEST(get_json("/api/v1/cache/search?query=li")["items"].as_array()[0].at("score").as_double() == 80.0);
  BOOST_TEST(get_json("/api/v1/cache/search?query=int")["items"].as_array()[0].at("score").as_double() == 60.0);
  BOOST_TEST(get_json("/api/v1/cache/search?query=%25")["total"].as_int64() == 0);  // '%' literal
  auto missing = get("/api/v1/cache/search");
  BOOST_TEST(missing.status == 422);
  BOOST_TEST(s(missing.json().at("detail").as_array()[0].at("type")) == "missing");
  BOOST_TEST(get("/api/v1/cache/search?query=").status == 422);
  BOOST_TEST(get("/api/v1/cache/search?query=a&limit=201").status == 422);
  auto bad = get("/api/v1/cache/search?query=a&sort_by=size");
  BOOST_TEST(bad.status == 400);
  BOOST_TEST(s(bad.json().at("detail")) == "Invalid sort_by value. Must be one of: relevance, name, type, updated");
}

BOOST_AUTO_TEST_CASE(refresh_and_invalidate) {
  auto r = post("/api/v1/cache/refresh", R"({"project_id": null, "force": true})");
  BOOST_TEST(r.status == 200);
  auto b = r.json().as_object();
  BOOST_TEST(!b["success"].as_bool());  // broken still fails
  BOOST_TEST(b["projects_refreshed"].as_int64() == 3);
  BOOST_TEST(!b["changes_detected"].as_bool());
  BOOST_TEST(b["errors"].as_array().size() == 1u);
  BOOST_TEST(s(b["message"]).starts_with("Refresh completed with errors: "));
  auto one = post("/api/v1/cache/refresh", "{\"project_id\": \"" + w.app_id + "\", \"force\": true}").json().as_object();
  BOOST_TEST(one["success"].as_bool());
  BOOST_TEST(s(one["message"]) == "Refresh completed successfully");
  auto unknown = post("/api/v1/cache/refresh", R"({"project_id": "nope"})");
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(s(unknown.json().at("detail")) == "Project 'nope' not found");
  auto nobody = post("/api/v1/cache/refresh", "");
  BOOST_TEST(nobody.status == 422);
  BOOST_TEST(json::serialize(nobody.json().at("detail").as_array()[0].at("loc")) == R"(["body"])");
  BOOST_TEST(post("/api/v1/cache/refresh", "{not json").status == 422);
  BOOST_TEST(post("/api/v1/cache/refresh", R"({"force": "sometimes"})").status == 422);

  auto inv = post("/api/v1/cache/invalidate", "{\"project_id\": \"" + w.app_id + "\"}").json().as_object();
  BOOST_TEST(inv["invalidated_count"].as_int64() == 1);
  BOOST_TEST(s(inv["message"]) == "Invalidated 1 project(s) successfully");
  BOOST_TEST(get_json("/api/v1/cache/projects?status=stale")["total"].as_int64() == 2);
  auto all = post("/api/v1/cache/invalidate", "{}").json().as_object();
  BOOST_TEST(s(all["message"]) == "Invalidated entire cache (4 projects)");
  auto nf = post("/api/v1/cache/invalidate", R"({"project_id": "nope"})");
  BOOST_TEST(nf.status == 404);
  BOOST_TEST(s(nf.json().at("detail")) == "Project 'nope' not found");
}

BOOST_AUTO_TEST_CASE(project_cache_routes_and_detail) {
  auto stats = get_json("/api/v1/projects/cache/stats");
  for (auto* k : {"entries", "last_scan", "last_update", "cache_ttl", "is_valid", "age_seconds"}) BOOST_TEST(stats.contains(k));
  BOOST_TEST(stats["entries"].as_int64() == 4);
  auto r = post("/api/v1/projects/cache/refresh", "");
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.json().at("stats").at("entries").as_int64() == 4);
  BOOST_TEST(post("/api/v1/projects/cache/refresh", "{\"project_id\": \"" + w.app_id + "\"}").status == 200);
  auto detail = get_json("/api/v1/cache/projects/" + w.web_id);
  BOOST_TEST(detail["artifacts"].as_array().size() == 2u);
  BOOST_TEST(get("/api/v1/cache/projects/nope").status == 404);
  BOOST_TEST(get_json("/api/v1/cache/marketplace")["total"].as_int64() == 0);
}

BOOST_AUTO_TEST_CASE(disk_change_shows_in_rest_and_status_answers_during_refresh) {
  write_file(w.dev / "app/.claude/commands/legacy.md", "changed locally\n");
  BOOST_TEST(eventually([&] {
    auto a = get_json("/api/v1/cache/artifacts?project_id=" + url_encode(w.app_id) + "&type=command");
    for (auto& v : a["items"].as_array())
      if (s(v.at("name")) == "legacy") return v.at("local_modified").as_bool();
    return false;
  }));
}

BOOST_AUTO_TEST_CASE(etag_and_not_modified) {
  auto first = get("/api/v1/cache/projects");
  auto etag = first.header("etag");
  BOOST_REQUIRE(!etag.empty());
  auto again = get("/api/v1/cache/projects", {{"If-None-Match", etag}});
  BOOST_TEST(again.status == 304);
  BOOST_TEST(again.body.empty());
  write_file(w.dev / "app/.claude/agents/pm.md", "another edit\n");
  BOOST_TEST(eventually([&] { return get("/api/v1/cache/projects", {{"If-None-Match", etag}}).status == 200; }));
}

BOOST_AUTO_TEST_SUITE_END()
