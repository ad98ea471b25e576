#include <boost/test/unit_test.hpp>
#include <algorithm>

#include "server_fixture.hpp"

using namespace projcache::test;
namespace json = boost::json;

namespace {
std::string ascii_lower_copy(std::string v) {
  for (auto& c : v)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return v;
}
}  // namespace

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

namespace {
std::vector<std::string> field_of(const json::array& items, const char* key) {
  std::vector<std::string> out;
  for (auto& v : items) out.push_back(s(v.at(key)));
  return out;
}
bool sorted_ci(std::vector<std::string> v, bool descending = false) {
  for (auto& x : v) x = ascii_lower_copy(x);
  return descending ? std::is_sorted(v.rbegin(), v.rend()) : std::is_sorted(v.begin(), v.end());
}
}  // namespace

BOOST_AUTO_TEST_CASE(search_sorts_filters_and_pages) {
  // "e" is in canvas-design, review and legacy: every sort over the same rows.
  auto by_relevance = get_json("/api/v1/cache/search?query=e");
  auto total = by_relevance["total"].as_int64();
  BOOST_TEST(total == 3);
  auto& rel = by_relevance["items"].as_array();
  for (std::size_t i = 1; i < rel.size(); ++i) BOOST_TEST(rel[i - 1].at("score").as_double() >= rel[i].at("score").as_double());
  auto by_name = get_json("/api/v1/cache/search?query=e&sort_by=name")["items"].as_array();
  BOOST_TEST(by_name.size() == static_cast<std::size_t>(total));
  BOOST_TEST(sorted_ci(field_of(by_name, "name")));
  auto by_type = get_json("/api/v1/cache/search?query=e&sort_by=type")["items"].as_array();
  BOOST_TEST(sorted_ci(field_of(by_type, "type")));
  BOOST_TEST(get_json("/api/v1/cache/search?query=e&sort_by=updated")["total"].as_int64() == total);
  // Filters and paging.
  auto in_web = get_json("/api/v1/cache/search?query=o&project_id=" + url_encode(w.web_id));  // docs, twice
  BOOST_TEST(in_web["total"].as_int64() == 2);
  for (auto& v : in_web["items"].as_array()) BOOST_TEST(s(v.at("project_id")) == w.web_id);
  auto commands = get_json("/api/v1/cache/search?query=e&type=command");
  BOOST_TEST(commands["total"].as_int64() == 2);
  for (auto& v : commands["items"].as_array()) BOOST_TEST(s(v.at("type")) == "command");
  BOOST_REQUIRE(by_name.size() == 3u);
  auto page = get_json("/api/v1/cache/search?query=e&sort_by=name&skip=1&limit=2");
  BOOST_TEST(page["total"].as_int64() == total);
  BOOST_TEST(page["skip"].as_int64() == 1);
  BOOST_TEST((field_of(page["items"].as_array(), "name") ==
              std::vector<std::string>{s(by_name[1].at("name")), s(by_name[2].at("name"))}));
}

BOOST_AUTO_TEST_CASE(stale_artifacts_sort_keys_and_project_filter) {
  for (auto* key : {"name", "type", "project", "version_diff"}) {
    BOOST_TEST_CONTEXT(key) {
      auto asc = get_json(std::string("/api/v1/cache/stale-artifacts?sort_by=") + key)["items"].as_array();
      auto desc = get_json(std::string("/api/v1/cache/stale-artifacts?sort_order=desc&sort_by=") + key)["items"].as_array();
      BOOST_REQUIRE(asc.size() == 2u);
      BOOST_REQUIRE(desc.size() == 2u);
      const char* field = std::string(key) == "project" ? "project_name" : std::string(key) == "version_diff" ? "version_difference" : key;
      BOOST_TEST(sorted_ci(field_of(asc, field)));
      BOOST_TEST(sorted_ci(field_of(desc, field), true));
    }
  }
  auto in_app = get_json("/api/v1/cache/stale-artifacts?project_id=" + url_encode(w.app_id));
  BOOST_TEST(in_app["total"].as_int64() == 2);
  BOOST_TEST(get_json("/api/v1/cache/stale-artifacts?project_id=" + url_encode(w.web_id))["total"].as_int64() == 0);
}

BOOST_AUTO_TEST_CASE(skip_on_artifacts_and_marketplace_and_an_unknown_status) {
  auto all = get_json("/api/v1/cache/artifacts?project_id=" + url_encode(w.app_id))["items"].as_array();
  auto rest = get_json("/api/v1/cache/artifacts?skip=4&project_id=" + url_encode(w.app_id));
  BOOST_TEST(rest["total"].as_int64() == 6);
  BOOST_REQUIRE(rest["items"].as_array().size() == 2u);
  BOOST_TEST(s(rest["items"].as_array()[0].at("id")) == s(all[4].at("id")));
  auto market = get_json("/api/v1/cache/marketplace?skip=3&limit=2");
  BOOST_TEST(market["skip"].as_int64() == 3);
  BOOST_TEST(market["limit"].as_int64() == 2);
  BOOST_TEST(get("/api/v1/cache/marketplace?skip=-1").status == 422);
  // As SkillMeat does: a status no project has matches none (not a 422).
  auto unknown = get_json("/api/v1/cache/projects?status=sleeping");
  BOOST_TEST(unknown["total"].as_int64() == 0);
  BOOST_TEST(unknown["items"].as_array().empty());
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

BOOST_AUTO_TEST_CASE(a_disk_change_shows_in_rest) {
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
