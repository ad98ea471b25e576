// Starting the server as a new user meets it: which world is served (the user's home or the
// demo world), the banner saying so, and a start that cannot serve (a taken port) that says who
// holds it and leaves the disk untouched.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <sstream>

#include "server_fixture.hpp"

using namespace projcache::test;

BOOST_AUTO_TEST_SUITE(startup)

BOOST_AUTO_TEST_CASE(demo_if_missing_serves_the_demo_world) {
  temp_dir d;
  env_map env{{"SKILLMEAT_HOME", (d / "no-such-home").string()}, {"XDG_STATE_HOME", (d / "state").string()}};
  server_process proc({"--demo-if-missing"}, env);
  BOOST_REQUIRE(eventually([&] { return http_get(proc.port(), "/readyz").status == 200; }));
  auto projects = http_get(proc.port(), "/api/v1/cache/projects").json();
  BOOST_TEST(projects.at("total").as_int64() == 3);
  BOOST_TEST(fs::exists(d / "state/projcache/demo/home/collections"));
  BOOST_TEST(!fs::exists(d / "no-such-home"));  // the user's home is not created
  // `projcache status` there has no database of its own, and says where the demo's is.
  auto st = run_projcache({"status"}, env);
  BOOST_TEST(st.code == 1);
  BOOST_TEST(st.err.find("the demo world's is at " + (d / "state/projcache/demo/home/cache/projcache.db").string()) !=
                 std::string::npos,
             st.err);
}

namespace {
std::vector<std::string> files_under(const fs::path& dir) {
  std::vector<std::string> out;
  for (auto& e : fs::recursive_directory_iterator(dir)) out.push_back(e.path().string());
  return out;
}
}  // namespace

// A second start on a taken port says who has it, in one line, and leaves the disk untouched: the
// home it would have served still gets the demo world later.
BOOST_AUTO_TEST_CASE(a_taken_port_is_named_and_nothing_is_created) {
  temp_dir d;
  fs::create_directories(d / "first");
  fs::create_directories(d / "second");
  fs::create_directories(d / "run");
  auto env_for = [&](const char* who) {
    return env_map{{"SKILLMEAT_HOME", (d / who / ".skillmeat").string()},
                   {"XDG_STATE_HOME", (d / who / "state").string()},
                   {"XDG_RUNTIME_DIR", (d / "run").string()}};
  };
  server_process first({"--demo-if-missing"}, env_for("first"));
  auto port = std::to_string(first.port());
  auto second = run_projcache({"serve", "--demo-if-missing", "--port", port}, env_for("second"));
  BOOST_TEST(second.code == 1);
  std::string expected = "projcache: port " + port + " is in use by projcache pid " + std::to_string(first.pid()) +
                         " at http://127.0.0.1:" + port + "; use --port 0 or stop it\n";
  BOOST_TEST(second.err.ends_with(expected), second.err);
  BOOST_TEST(second.err.find("system:") == std::string::npos);
  BOOST_TEST(files_under(d / "second").empty());
  BOOST_TEST(first.running());

  // An entry left by a server that was killed goes when the next one records itself.
  write_file(d / "run/projcache/1.json", R"({"event":"ready","port":1,"pid":999999999,"url":"http://127.0.0.1:1"})");
  {
    server_process third({}, env_for("third"));
  }
  BOOST_TEST(!fs::exists(d / "run/projcache/1.json"));

  // A port held by something that is not a projcache.
  auto other = run_projcache({"serve", "--port", port}, {{"SKILLMEAT_HOME", (d / "second/.skillmeat").string()},
                                                         {"XDG_RUNTIME_DIR", (d / "second").string()}});
  BOOST_TEST(other.err.find("port " + port + " is in use by another program; use --port 0") != std::string::npos,
             other.err);
  BOOST_TEST(files_under(d / "second").empty());

  // On a free port the same home gets the demo world, and the banner says what is served.
  server_process demo({"--demo-if-missing"}, env_for("second"));
  BOOST_REQUIRE(eventually([&] { return http_get(demo.port(), "/readyz").status == 200; }));
  BOOST_TEST(http_get(demo.port(), "/api/v1/cache/projects").json().at("total").as_int64() == 3);
  BOOST_TEST(demo.stderr_text().find("projcache " PROJCACHE_VERSION " serving http://127.0.0.1:" +
                                     std::to_string(demo.port())) != std::string::npos);
}

// run.sh's choice: a home whose folder exists but holds no collection (only a cache, say) is
// not a SkillMeat home in use, so the demo world is served.
BOOST_AUTO_TEST_CASE(a_home_without_collections_gets_the_demo_world) {
  temp_dir d;
  fs::create_directories(d / "home/cache");
  env_map env{{"SKILLMEAT_HOME", (d / "home").string()}, {"XDG_STATE_HOME", (d / "state").string()}};
  BOOST_REQUIRE(run_projcache({"refresh"}, env).code == 0);  // an empty cache of its own
  server_process proc({"--demo-if-missing"}, env);
  BOOST_REQUIRE(eventually([&] { return http_get(proc.port(), "/readyz").status == 200; }));
  BOOST_TEST(http_get(proc.port(), "/api/v1/cache/projects").json().at("total").as_int64() == 3);
  // With a collection it is the user's home, served as it is.
  auto w = build_reference_world(d / "real");
  server_process real({"--demo-if-missing"}, {{"SKILLMEAT_HOME", w.home.string()},
                                              {"SKILLMEAT_CACHE_SEARCH_ROOTS", w.dev.string()},
                                              {"XDG_STATE_HOME", (d / "state2").string()}});
  BOOST_REQUIRE(eventually([&] { return http_get(real.port(), "/readyz").status == 200; }));
  BOOST_TEST(!fs::exists(d / "state2"));
  BOOST_TEST(real.stderr_text().find("  home       " + w.home.string() + "\n") != std::string::npos);
}

// The banner names each search root, and the ones not there yet; in JSON log format it is one
// record with the same facts.
BOOST_AUTO_TEST_CASE(the_start_banner_lists_roots_and_missing_ones) {
  temp_dir d;
  auto w = build_reference_world(d.path());
  auto missing = d / "not-yet";
  env_map env{{"SKILLMEAT_HOME", w.home.string()},
              {"SKILLMEAT_CACHE_SEARCH_ROOTS", w.dev.string() + ":" + missing.string()}};
  {
    server_process proc({}, env);
    BOOST_REQUIRE(eventually([&] { return proc.stderr_text().find("first refresh done") != std::string::npos; }));
    auto err = proc.stderr_text();
    BOOST_TEST(err.find("  database   " + (w.home / "cache/projcache.db").string() + "\n") != std::string::npos, err);
    BOOST_TEST(err.find("  search     " + w.dev.string() + "\n") != std::string::npos, err);
    BOOST_TEST(err.find("             " + missing.string() + "  (missing: will be watched when it appears)\n") !=
                   std::string::npos, err);
    BOOST_TEST(err.find("  watcher    ") != std::string::npos);
    BOOST_TEST(err.find("first refresh done: 4 project(s)") != std::string::npos, err);
  }
  server_process proc({"--log-format", "json"}, env);
  BOOST_REQUIRE(eventually([&] { return proc.stderr_text().find("\"msg\":\"started\"") != std::string::npos; }));
  boost::json::object started;
  std::istringstream lines(proc.stderr_text());
  for (std::string line; std::getline(lines, line);)
    if (line.find("\"msg\":\"started\"") != std::string::npos) started = boost::json::parse(line).as_object();
  BOOST_TEST(started.at("url").as_string() == "http://127.0.0.1:" + std::to_string(proc.port()));
  BOOST_TEST(started.at("database").as_string() == (w.home / "cache/projcache.db").string());
  BOOST_TEST(started.at("projects").as_int64() == 4);  // cached by the first run
  auto roots = started.at("search_roots").as_array();
  BOOST_REQUIRE(roots.size() == 2u);
  BOOST_TEST(roots[0].at("exists").as_bool());
  BOOST_TEST(roots[1].at("path").as_string() == missing.string());
  BOOST_TEST(!roots[1].at("exists").as_bool());
}

BOOST_AUTO_TEST_SUITE_END()
