// A scan never holds a thread hostage: a huge (or hung) file stops being hashed when its
// attempt times out or the server stops, and a FIFO is never opened.
#include <sys/stat.h>

#include <fstream>
#include <future>

#include <boost/test/unit_test.hpp>
#include <csignal>

#include "server_fixture.hpp"

using namespace projcache::test;
namespace json = boost::json;

namespace {
// A project deploying one skill whose folder holds a sparse 256 GiB file: minutes to hash,
// no disk used.
fs::path huge_project(const fs::path& root, const std::string& name) {
  fs::path p = root / name;
  write_file(p / ".claude/skills/huge/SKILL.md", "huge\n");
  write_file(p / ".claude/.skillmeat-deployed.toml",
             "[[deployed]]\nartifact_name = \"huge\"\nartifact_type = \"skill\"\nfrom_collection = \"default\"\n");
  {
    std::ofstream f(p / ".claude/skills/huge/blob.bin");
  }
  fs::resize_file(p / ".claude/skills/huge/blob.bin", 256ull << 30);
  return fs::canonical(p);
}

std::string status_of(std::uint16_t port, const fs::path& p) {
  auto r = http_get(port, "/api/v1/cache/projects/" + url_encode(b64_id(p)));
  return r.status == 200 ? std::string(r.json().at("status").as_string()) : "absent";
}
}  // namespace

BOOST_AUTO_TEST_SUITE(scan_limits)

BOOST_AUTO_TEST_CASE(a_timed_out_scan_frees_its_thread_for_the_others) {
  temp_dir d;
  auto w = build_reference_world(d.path());
  // Two of them: both scan threads would be taken for minutes if a timeout only dropped the result.
  auto a = huge_project(w.dev, "huge-a"), b = huge_project(w.dev, "huge-b");
  age_tree(w.home);
  age_tree(w.dev);
  server_process proc({}, {{"SKILLMEAT_HOME", w.home.string()},
                           {"SKILLMEAT_CACHE_SEARCH_ROOTS", w.dev.string()},
                           {"SKILLMEAT_CACHE_REFRESH_TIMEOUT_SECONDS", "1"},
                           {"SKILLMEAT_CACHE_RETRY_BASE_SECONDS", "1"}});
  BOOST_REQUIRE(eventually([&] { return http_get(proc.port(), "/readyz").status == 200; }, std::chrono::seconds(90)));
  BOOST_TEST(status_of(proc.port(), w.dev / "app") == "active");
  BOOST_TEST(status_of(proc.port(), w.dev / "clients/web") == "active");
  for (auto& p : {a, b}) {
    auto detail = http_get(proc.port(), "/api/v1/cache/projects/" + url_encode(b64_id(p))).json().as_object();
    BOOST_TEST(detail["status"].as_string() == "error");
    BOOST_TEST(std::string(detail["error_message"].as_string()).find("timed out") != std::string::npos);
  }
  // Queued after them: it gets a scan thread, because the timed-out hashing let go of both.
  auto r = http_post(proc.port(), "/api/v1/cache/refresh",
                     json::serialize(json::object{{"project_id", b64_id(w.dev / "app")}, {"force", true}}));
  BOOST_REQUIRE(r.status == 200);
  BOOST_TEST(r.json().at("success").as_bool(), r.body);
  BOOST_TEST(status_of(proc.port(), w.dev / "app") == "active");
}

BOOST_AUTO_TEST_CASE(sigterm_in_the_middle_of_hashing_a_huge_file_exits) {
  temp_dir d;
  temp_dir home;
  huge_project(d.path(), "huge");
  server_process proc({}, {{"SKILLMEAT_HOME", home.path().string()}, {"SKILLMEAT_CACHE_SEARCH_ROOTS", d.path().string()}});
  // Its first full refresh is under way: the only project is being hashed.
  BOOST_REQUIRE(eventually([&] {
    auto st = http_get(proc.port(), "/api/v1/cache/status").json().as_object();
    return st["refresh_progress"].at("running").as_bool() && st["refresh_progress"].at("total").as_int64() == 1;
  }));
  auto starting = http_get(proc.port(), "/readyz");
  BOOST_TEST(starting.status == 503);  // not ready while the first scan runs
  BOOST_TEST(starting.json().at("status").as_string() == "starting");
  BOOST_TEST(http_get(proc.port(), "/healthz").status == 200);  // alive all the same
  // Hashing 256 GiB takes minutes; stopping within the deadline means the hash stopped.
  BOOST_TEST(proc.stop(SIGTERM, std::chrono::milliseconds(30000)) == 0);
}

BOOST_AUTO_TEST_CASE(a_request_in_flight_at_sigterm_gets_its_answer) {
  temp_dir d;
  temp_dir home;
  auto huge = huge_project(d.path(), "huge");
  server_process proc({}, {{"SKILLMEAT_HOME", home.path().string()}, {"SKILLMEAT_CACHE_SEARCH_ROOTS", d.path().string()}});
  BOOST_REQUIRE(eventually([&] {
    return http_get(proc.port(), "/api/v1/cache/status").json().at("refresh_progress").at("running").as_bool();
  }));
  // A refresh request that waits behind the running scan of the huge file: in flight.
  auto reply = std::async(std::launch::async, [&] {
    return http_post(proc.port(), "/api/v1/cache/refresh",
                     json::serialize(json::object{{"project_id", b64_id(huge)}, {"force", true}}));
  });
  BOOST_REQUIRE(eventually([&] {  // it, and the /metrics request asking
    return http_get(proc.port(), "/metrics").body.find("projcache_http_requests_in_flight 2\n") != std::string::npos;
  }));
  ::kill(proc.pid(), SIGTERM);
  auto r = reply.get();  // an answer, not a reset connection
  BOOST_TEST(r.status != 0);
  BOOST_TEST(r.header("connection") == "close");  // and told not to come back on it
  BOOST_TEST(proc.stop(0, std::chrono::milliseconds(30000)) == 0);  // signal 0: only wait for the exit
}

BOOST_AUTO_TEST_CASE(a_fifo_where_an_artifact_should_be_fails_its_project_not_the_scan_thread) {
  live_server srv;
  fs::remove(srv.w.dev / "app/.claude/agents/pm.md");
  BOOST_REQUIRE(::mkfifo((srv.w.dev / "app/.claude/agents/pm.md").c_str(), 0644) == 0);
  auto r = srv.post("/api/v1/cache/refresh", "{\"project_id\":\"" + srv.w.app_id + "\",\"force\":true}");
  BOOST_REQUIRE(r.status == 200);
  BOOST_TEST(!r.json().at("success").as_bool());
  auto detail = srv.get_json("/api/v1/cache/projects/" + url_encode(srv.w.app_id));
  BOOST_TEST(detail["status"].as_string() == "error");
  BOOST_TEST(std::string(detail["error_message"].as_string()).find("pm.md is a FIFO") != std::string::npos);
  // Every other project still refreshes.
  auto all = srv.post("/api/v1/cache/refresh", R"({"project_id":null,"force":true})").json().as_object();
  BOOST_TEST(all["projects_refreshed"].as_int64() >= 2);
}

BOOST_AUTO_TEST_SUITE_END()
