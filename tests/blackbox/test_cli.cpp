#include <sys/mount.h>

#include <signal.h>
#include <stdio.h>

#include <boost/json.hpp>

#include <boost/test/unit_test.hpp>

#include "server_fixture.hpp"

using namespace projcache::test;

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(migrate_up_twice_down_up) {
  temp_dir d;
  std::map<std::string, std::string> env{{"SKILLMEAT_HOME", d.path().string()}};
  auto up = run_projcache({"migrate", "up"}, env);
  BOOST_TEST(up.code == 0);
  BOOST_TEST(up.out.find("applied 2 migration(s)") != std::string::npos);
  BOOST_TEST(run_projcache({"migrate", "up"}, env).out.find("applied 0 migration(s)") != std::string::npos);
  auto down = run_projcache({"migrate", "down"}, env);
  BOOST_TEST(down.code == 0);
  BOOST_TEST(down.out.find("schema version 1") != std::string::npos);
  BOOST_TEST(run_projcache({"migrate", "status"}, env).out.find("pending 2_registered_projects") != std::string::npos);
  BOOST_TEST(run_projcache({"migrate", "up"}, env).code == 0);
  auto status = run_projcache({"migrate", "status"}, env).out;
  BOOST_TEST(status.find("applied 1_initial") != std::string::npos);
  BOOST_TEST(status.find("applied 2_registered_projects") != std::string::npos);
  BOOST_TEST(run_projcache({"check"}, env).out.find("quick_check: ok") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(serve_help_lists_every_option_of_the_contract) {
  auto help = run_projcache({"serve", "--help"}, {});
  BOOST_TEST(help.code == 0);
  for (auto* flag : {"--cache-path", "--ttl-minutes", "--refresh-interval-hours", "--max-concurrent-refreshes",
                     "--enable-background-refresh", "--retry-base-seconds", "--refresh-timeout-seconds", "--debounce-ms",
                     "--search-roots", "--projects", "--host", "--port", "--marketplace-url", "--home", "--api-key"})
    BOOST_TEST_CONTEXT(flag) { BOOST_TEST(help.out.find(flag) != std::string::npos); }
  for (auto* env : {"SKILLMEAT_CACHE_PATH", "SKILLMEAT_CACHE_TTL_MINUTES", "SKILLMEAT_CACHE_SEARCH_ROOTS", "SKILLMEAT_HOME"})
    BOOST_TEST(help.out.find(env) != std::string::npos);
  BOOST_TEST(run_projcache({"version"}, {}).out.starts_with("projcache "));
  BOOST_TEST(run_projcache({"frobnicate"}, {}).code == 2);
}

// Each command's --help lists its own options only, as typed, with environment names whole.
BOOST_AUTO_TEST_CASE(each_command_help_lists_its_own_options) {
  auto status = run_projcache({"status", "--help"}, {});
  BOOST_TEST(status.code == 0);
  BOOST_TEST(status.out.starts_with("usage: projcache status [--json|--text]\n"), status.out);
  BOOST_TEST(status.out.find("--json") != std::string::npos);
  BOOST_TEST(status.out.find("--cache-path FILE") != std::string::npos);
  for (auto* not_its : {"--port", "--search-roots", "--debounce-ms", "--offline"})
    BOOST_TEST_CONTEXT(not_its) { BOOST_TEST(status.out.find(not_its) == std::string::npos); }
  auto refresh = run_projcache({"refresh", "--help"}, {});
  BOOST_TEST(refresh.out.find("--offline") != std::string::npos);
  BOOST_TEST(refresh.out.find("[SKILLMEAT_CACHE_REFRESH_TIMEOUT_SECONDS, default 300]") != std::string::npos, refresh.out);
  BOOST_TEST(refresh.out.find("examples:\n  projcache refresh\n") != std::string::npos);
  // A flag another command has is refused, by its name as typed, with where to look.
  auto wrong = run_projcache({"status", "--port", "1"}, {});
  BOOST_TEST(wrong.code == 2);
  BOOST_TEST(wrong.err.find("'--port'") != std::string::npos, wrong.err);
  BOOST_TEST(wrong.err.find("see 'projcache status --help'") != std::string::npos);
  auto usage = run_projcache({"--help"}, {});
  for (auto* c : {"serve", "status", "refresh", "clear", "check", "vacuum", "migrate", "demo", "completion", "man"})
    BOOST_TEST_CONTEXT(c) { BOOST_TEST(usage.out.find("\n  " + std::string(c)) != std::string::npos); }
  BOOST_TEST(run_projcache({"completion", "fish"}, {}).code == 2);
}

BOOST_AUTO_TEST_CASE(bad_configuration_exits_2_naming_the_key) {
  temp_dir d;
  auto r = run_projcache({"serve", "--port", "0"}, {{"SKILLMEAT_HOME", d.path().string()}, {"SKILLMEAT_CACHE_TTL_MINUTES", "soon"}});
  BOOST_TEST(r.code == 2);
  BOOST_TEST(r.err.find("ttl_minutes") != std::string::npos);
  // A flag is named as it is typed.
  auto flag = run_projcache({"serve", "--port", "0", "--ttl-minutes", "soon"}, {{"SKILLMEAT_HOME", d.path().string()}});
  BOOST_TEST(flag.code == 2);
  BOOST_TEST(flag.err.find("--ttl-minutes") != std::string::npos, flag.err);
  BOOST_TEST(flag.err.find("--ttl_minutes") == std::string::npos, flag.err);
  BOOST_TEST(r.err.find("SKILLMEAT_CACHE_TTL_MINUTES") != std::string::npos);
  write_file(d / "config.toml", "[cache]\nport = \"high\"\n");
  auto f = run_projcache({"status"}, {{"SKILLMEAT_HOME", d.path().string()}});
  BOOST_TEST(f.code == 2);
  BOOST_TEST(f.err.find("config.toml") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_blank_api_key_does_not_start_the_server) {
  temp_dir d;
  for (const char* blank : {"", "   "}) {
    auto r = run_projcache({"serve", "--port", "0", "--api-key", blank}, {{"SKILLMEAT_HOME", d.path().string()}});
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("--api-key is empty or blank") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(sidecar_handshake_lock_and_graceful_stop) {
  temp_dir d;
  auto w = build_reference_world(d.path());
  std::map<std::string, std::string> env{{"SKILLMEAT_HOME", w.home.string()}, {"SKILLMEAT_CACHE_SEARCH_ROOTS", w.dev.string()}};
  auto port_file = d / "port.json";
  server_process proc({"--port-file", port_file.string()}, env);
  auto ready = boost::json::parse(proc.ready_line()).as_object();
  BOOST_TEST(ready.at("event").as_string() == "ready");
  BOOST_TEST(ready.at("port").as_int64() == proc.port());
  BOOST_TEST(ready.at("pid").as_int64() == proc.pid());
  BOOST_TEST(ready.at("db").as_string() == (w.home / "cache/projcache.db").string());
  BOOST_TEST(ready.at("url").as_string() == "http://127.0.0.1:" + std::to_string(proc.port()));
  BOOST_TEST(read_file(port_file) == proc.ready_line() + "\n");
  BOOST_TEST(http_get(proc.port(), "/healthz").status == 200);

  auto second = run_projcache({"serve", "--port", "0", "--exit-with-parent", "false"}, env);
  BOOST_TEST(second.code == 3);
  // It names the server in the way: its pid and its URL, with what to do.
  BOOST_TEST(second.err.find("pid " + std::to_string(proc.pid())) != std::string::npos, second.err);
  BOOST_TEST(second.err.find(ready.at("url").as_string().c_str()) != std::string::npos, second.err);
  auto vacuum = run_projcache({"vacuum", "--offline"}, env);
  BOOST_TEST(vacuum.code == 3);
  BOOST_TEST(vacuum.err.find("use its API") != std::string::npos, vacuum.err);
  // Read-only commands work beside it.
  auto migrations = run_projcache({"migrate", "status"}, env);
  BOOST_TEST(migrations.code == 0, migrations.err);
  BOOST_TEST(migrations.out.find("applied 1_initial") != std::string::npos);
  BOOST_TEST(run_projcache({"status"}, env).code == 0);
  BOOST_TEST(run_projcache({"check"}, env).code == 0);

  BOOST_TEST(proc.stop(SIGTERM) == 0);  // how fast: bench/ (graceful stop)
  BOOST_TEST(run_projcache({"check"}, env).out.find("ok") != std::string::npos);  // closed cleanly
}

BOOST_AUTO_TEST_CASE(exits_when_its_parent_dies) {
  temp_dir d;
  auto port_file = d / "port.json";
  std::string cmd = "SKILLMEAT_HOME=" + (d / "home").string() + " SKILLMEAT_CACHE_SEARCH_ROOTS=" + (d / "none").string() +
                    " sh -c '\"" + projcache_binary() + "\" serve --port 0 --port-file " + port_file.string() +
                    " >/dev/null 2>&1 </dev/null & echo $$; wait' ";
  FILE* p = ::popen(cmd.c_str(), "r");
  BOOST_REQUIRE(p);
  char buf[32] = {};
  BOOST_REQUIRE(::fgets(buf, sizeof buf, p));
  pid_t shell = std::stoi(buf);
  BOOST_REQUIRE(eventually([&] { return fs::exists(port_file); }));
  pid_t server = static_cast<pid_t>(boost::json::parse(read_file(port_file)).at("pid").as_int64());
  ::kill(shell, SIGKILL);
  ::pclose(p);
  auto gone = [&] {
    if (::kill(server, 0) != 0) return true;
    auto stat = read_file("/proc/" + std::to_string(server) + "/stat");
    return stat.empty() || stat.find(") Z ") != std::string::npos;
  };
  BOOST_TEST(eventually(gone, std::chrono::milliseconds(15000)));  // how soon: bench/ (parent death)
}

BOOST_AUTO_TEST_CASE(one_shot_refresh_and_status_without_a_server) {
  temp_dir d;
  auto w = build_reference_world(d.path());
  std::map<std::string, std::string> env{{"SKILLMEAT_HOME", w.home.string()}, {"SKILLMEAT_CACHE_SEARCH_ROOTS", w.dev.string()}};
  auto r = run_projcache({"refresh"}, env);
  BOOST_TEST(r.code == 1);  // the broken project
  BOOST_TEST(r.out.find("\"projects_refreshed\":3") != std::string::npos);
  auto st = run_projcache({"status"}, env);
  BOOST_TEST(st.code == 0);
  BOOST_TEST(st.out.find("\"total_projects\":4") != std::string::npos);
  BOOST_TEST(st.out.find("\"total_artifacts\":8") != std::string::npos);
  BOOST_TEST(run_projcache({"clear", "--yes"}, env).code == 0);
  BOOST_TEST(run_projcache({"status"}, env).out.find("\"total_projects\":0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(demo_world_has_every_drift_state) {
  temp_dir d;
  BOOST_TEST(run_projcache({"demo", (d / "demo").string()}, {}).code == 0);
  server_process proc({}, {{"SKILLMEAT_HOME", (d / "demo/home").string()}, {"SKILLMEAT_CACHE_SEARCH_ROOTS", (d / "demo/dev").string()}});
  BOOST_REQUIRE(eventually([&] { return http_get(proc.port(), "/readyz").status == 200; }));
  auto projects = http_get(proc.port(), "/api/v1/cache/projects").json().at("items").as_array();
  BOOST_TEST(projects.size() == 3u);
  std::map<std::string, std::int64_t> drift;
  for (auto& p : projects)
    for (auto& [k, v] : p.at("drift_counts").as_object()) drift[std::string(k)] += v.as_int64();
  for (auto* state : {"synced", "outdated", "modified", "conflict", "removed", "missing"})
    BOOST_TEST_CONTEXT(state) { BOOST_TEST(drift[state] > 0); }
  auto page = http_get(proc.port(), "/");
  BOOST_TEST(page.status == 200);
  BOOST_TEST(page.header("content-type").starts_with("text/html"));
}

BOOST_AUTO_TEST_CASE(the_lock_cannot_be_deleted_from_under_a_server) {
  temp_dir d;
  auto w = build_reference_world(d.path());
  std::map<std::string, std::string> env{{"SKILLMEAT_HOME", w.home.string()}, {"SKILLMEAT_CACHE_SEARCH_ROOTS", w.dev.string()}};
  server_process first({}, env);
  auto lock = w.home / "cache/projcache.db.lock";
  BOOST_REQUIRE(fs::exists(lock));
  fs::remove(lock);  // someone cleans up "stale" files
  auto second = run_projcache({"serve", "--port", "0"}, env);
  BOOST_TEST(second.code == 3);
  BOOST_TEST(second.err.find("another projcache is using") != std::string::npos);
  BOOST_TEST(run_projcache({"vacuum"}, env).code == 3);
  BOOST_TEST(first.running());
}

BOOST_AUTO_TEST_CASE(a_database_path_that_cannot_be_is_an_error_not_a_lock) {
  temp_dir d;
  write_file(d / "plain-file", "not a folder");
  auto r = run_projcache({"serve", "--port", "0"},
                         {{"SKILLMEAT_HOME", d.path().string()}, {"SKILLMEAT_CACHE_PATH", (d / "plain-file/cache.db").string()}});
  BOOST_TEST(r.code == 2);
  BOOST_TEST(r.err.find("cannot create the folder") != std::string::npos);
  BOOST_TEST(r.err.find("another projcache") == std::string::npos);
  // A read-only folder (a read-only mount: root can write anywhere else).
  fs::create_directories(d / "ro");
  BOOST_REQUIRE_MESSAGE(::mount("tmpfs", (d / "ro").c_str(), "tmpfs", MS_RDONLY, "size=1m") == 0, "mounting needs root");
  auto ro = run_projcache({"vacuum"}, {{"SKILLMEAT_HOME", d.path().string()}, {"SKILLMEAT_CACHE_PATH", (d / "ro/cache.db").string()}});
  ::umount2((d / "ro").c_str(), MNT_DETACH);
  BOOST_TEST(ro.code == 2);
  BOOST_TEST(ro.err.find("Read-only file system") != std::string::npos);
  BOOST_TEST(ro.err.find("must be writable") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(one_shot_maintenance_commands) {
  temp_dir d;
  auto w = build_reference_world(d.path());
  env_map env{{"SKILLMEAT_HOME", w.home.string()}, {"SKILLMEAT_CACHE_SEARCH_ROOTS", w.dev.string()}};
  BOOST_REQUIRE(run_projcache({"refresh"}, env).code == 1);  // the broken project fails; the rest is stored

  // One project, forced: refreshed although fresh; unforced: fresh, nothing to do.
  auto forced = run_projcache({"refresh", w.app_id, "--force"}, env);
  BOOST_TEST(forced.code == 0);
  BOOST_TEST(forced.out.find("\"projects_refreshed\":1") != std::string::npos);
  auto fresh = run_projcache({"refresh", w.app_id}, env);
  BOOST_TEST(fresh.code == 0);
  BOOST_TEST(fresh.out.find("\"projects_refreshed\":0") != std::string::npos);
  auto unknown = run_projcache({"refresh", "bm9wZQ==", "--force"}, env);
  BOOST_TEST(unknown.code == 1);
  BOOST_TEST(unknown.out.find("not found") != std::string::npos);

  auto vac = run_projcache({"vacuum"}, env);
  BOOST_TEST(vac.code == 0);
  BOOST_TEST(vac.out.starts_with("vacuumed: "));
  auto full = run_projcache({"check", "--full"}, env);
  BOOST_TEST(full.code == 0);
  BOOST_TEST(full.out.find("integrity_check: ok") != std::string::npos);

  // clear asks first: anything but yes leaves the rows where they are.
  auto no = run_projcache({"clear"}, env, "n\n");
  BOOST_TEST(no.code == 1);
  BOOST_TEST(no.out.find("nothing done") != std::string::npos);
  BOOST_TEST(run_projcache({"status"}, env).out.find("\"total_projects\":4") != std::string::npos);
  auto yes = run_projcache({"clear"}, env, "y\n");
  BOOST_TEST(yes.code == 0);
  BOOST_TEST(run_projcache({"status"}, env).out.find("\"total_projects\":0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(migrate_down_n_steps) {
  temp_dir d;
  env_map env{{"SKILLMEAT_HOME", d.path().string()}};
  BOOST_REQUIRE(run_projcache({"migrate", "up"}, env).code == 0);
  auto down = run_projcache({"migrate", "down", "2"}, env);
  BOOST_TEST(down.code == 0);
  BOOST_TEST(down.out.find("reverted 2 migration(s); schema version 0") != std::string::npos);
  auto status = run_projcache({"migrate", "status"}, env).out;
  BOOST_TEST(status.find("pending 1_initial") != std::string::npos);
  BOOST_TEST(status.find("pending 2_registered_projects") != std::string::npos);
  BOOST_TEST(run_projcache({"migrate", "down", "1"}, env).out.find("reverted 0 migration(s)") != std::string::npos);
  BOOST_TEST(run_projcache({"migrate", "down", "many"}, env).code == 2);
}

// Beside a running server: the read-only commands read the database (WAL readers need no lock),
// and refresh, clear and vacuum go through the server's API; --offline refuses as before.
BOOST_AUTO_TEST_CASE(commands_beside_a_running_server) {
  temp_dir d;
  auto w = build_reference_world(d.path());
  env_map env{{"SKILLMEAT_HOME", w.home.string()}, {"SKILLMEAT_CACHE_SEARCH_ROOTS", w.dev.string()},
              {"SKILLMEAT_API_KEY_ENABLED", "true"}, {"SKILLMEAT_API_KEY", "k3y"}};
  server_process proc({}, env);
  BOOST_REQUIRE(eventually([&] { return http_get(proc.port(), "/readyz").status == 200; }));
  std::string url = "http://127.0.0.1:" + std::to_string(proc.port());
  std::string through = "projcache: done through the server at " + url + " (pid " + std::to_string(proc.pid()) + ")";

  auto st = run_projcache({"status"}, env);  // not a terminal: JSON
  BOOST_TEST(st.code == 0, st.err);
  auto o = boost::json::parse(st.out).as_object();
  BOOST_TEST(o.at("total_projects").as_int64() == 4);
  BOOST_TEST(o.at("server").at("url").as_string() == url);
  auto text = run_projcache({"status", "--text"}, env);
  BOOST_TEST(text.out.find("projects   4 (") != std::string::npos, text.out);
  BOOST_TEST(text.out.find("server     running at " + url) != std::string::npos, text.out);
  auto mig = run_projcache({"migrate", "status"}, env);
  BOOST_TEST(mig.code == 0);
  BOOST_TEST(mig.out.find("applied 1_initial") != std::string::npos);
  BOOST_TEST(run_projcache({"check"}, env).code == 0);

  auto ref = run_projcache({"refresh", w.app_id, "--force"}, env);
  BOOST_TEST(ref.code == 0, ref.err);
  BOOST_TEST(ref.err.find(through) != std::string::npos, ref.err);
  BOOST_TEST(boost::json::parse(ref.out).at("projects_refreshed").as_int64() == 1);
  auto unknown = run_projcache({"refresh", "bm9wZQ==", "--force"}, env);
  BOOST_TEST(unknown.code == 1);
  BOOST_TEST(unknown.out.find("not found") != std::string::npos);
  auto vac = run_projcache({"vacuum"}, env);
  BOOST_TEST(vac.code == 0, vac.err);
  BOOST_TEST(vac.out.starts_with("vacuumed: "));
  BOOST_TEST(vac.err.find(through) != std::string::npos);
  auto clr = run_projcache({"clear", "--yes"}, env);
  BOOST_TEST(clr.code == 0, clr.err);
  BOOST_TEST(clr.out == "cache cleared; 4 project(s) found again by the server\n");

  // The API key is the server's: without it, one line saying what to set.
  env_map no_key = env;
  no_key.erase("SKILLMEAT_API_KEY_ENABLED");
  no_key.erase("SKILLMEAT_API_KEY");
  auto refused = run_projcache({"refresh"}, no_key);
  BOOST_TEST(refused.code == 1);
  BOOST_TEST(refused.err.find("wants an API key: set SKILLMEAT_API_KEY") != std::string::npos, refused.err);

  auto offline = run_projcache({"refresh", "--offline"}, env);
  BOOST_TEST(offline.code == 3);
  BOOST_TEST(offline.err.find("another projcache server (pid " + std::to_string(proc.pid())) != std::string::npos);
  BOOST_TEST(proc.running());
}

BOOST_AUTO_TEST_CASE(sigint_stops_gracefully_and_a_second_signal_at_once) {
  temp_dir d;
  auto w = build_reference_world(d.path());
  env_map env{{"SKILLMEAT_HOME", w.home.string()}, {"SKILLMEAT_CACHE_SEARCH_ROOTS", w.dev.string()}};
  {
    server_process proc({}, env);
    BOOST_TEST(proc.stop(SIGINT) == 0);  // Ctrl-C in a terminal: the same graceful stop
  }
  server_process proc({}, env);
  BOOST_REQUIRE(eventually([&] { return http_get(proc.port(), "/readyz").status == 200; }));
  // A subscriber that never answers the close keeps the graceful stop waiting a while...
  ws_client mute(proc.port());
  mute.send(R"({"op":"subscribe"})");
  ::kill(proc.pid(), SIGTERM);
  BOOST_REQUIRE(eventually([&] { return proc.stderr_text().find("stopping") != std::string::npos; }));
  // ...and a second signal ends it at once, with the signal's exit code.
  BOOST_TEST(proc.stop(SIGTERM) == 143);
}

BOOST_AUTO_TEST_CASE(the_watcher_backend_is_chosen_and_reported) {
  const bool portable = projcache_binary().ends_with("-portable");
  auto watcher_of = [](const live_server& s) { return s.get_json("/api/v1/cache/status").at("watcher").as_object(); };
  {
    // auto: inotify on Linux; the portable build has only poll.
    live_server s;
    auto w = watcher_of(s);
    BOOST_TEST(w.at("backend").as_string() == (portable ? "poll" : "inotify"));
    BOOST_TEST(w.at("backends").as_array().size() == 1u);
  }
  {
    // poll asked for (any build): reported with its figures, and a new project is still found.
    live_server s({{"SKILLMEAT_CACHE_WATCHER", "poll"}, {"SKILLMEAT_CACHE_POLL_INTERVAL_MS", "100"}});
    auto w = watcher_of(s);
    BOOST_TEST(w.at("backend").as_string() == "poll");
    auto& b = w.at("backends").as_array().at(0).as_object();
    BOOST_TEST(b.at("interval_ms").as_int64() == 100);
    BOOST_TEST(b.at("watches").as_int64() > 5);
    write_file(s.w.dev / "fresh/.claude/skills/x/SKILL.md", "x\n");
    write_file(s.w.dev / "fresh/.claude/.skillmeat-deployed.toml",
               "[[deployed]]\nartifact_name = \"x\"\nartifact_type = \"skill\"\nartifact_path = \"skills/x\"\n");
    auto id = b64_id(s.w.dev / "fresh");
    BOOST_TEST(eventually([&] { return s.get("/api/v1/cache/projects/" + url_encode(id)).status == 200; }));
    auto metrics = s.get("/metrics").body;
    BOOST_TEST(metrics.find("projcache_watcher_poll_ticks_total{backend=\"poll\",role=\"primary\"}") != std::string::npos);
  }
  temp_dir d;
  env_map env{{"SKILLMEAT_HOME", d.path().string()}};
  auto bad = run_projcache({"serve", "--port", "0", "--watcher", "kqueue"}, env);
  BOOST_TEST(bad.code == 2);
  BOOST_TEST(bad.err.find(portable ? "auto, poll" : "auto, inotify, poll") != std::string::npos, bad.err);
  if (portable) {
    // Linux-only: the message says what to use instead.
    auto inotify = run_projcache({"serve", "--port", "0", "--watcher", "inotify"}, env);
    BOOST_TEST(inotify.code == 2);
    BOOST_TEST(inotify.err.find("use watcher = \"poll\" or \"auto\"") != std::string::npos, inotify.err);
  }
}

BOOST_AUTO_TEST_SUITE_END()
