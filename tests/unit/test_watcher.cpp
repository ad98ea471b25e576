#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <cstdlib>

#include "platform/watch_backend.hpp"
#include "service_fixture.hpp"

using namespace projcache;
using namespace projcache::test;

namespace {
struct watcher_fixture {
  temp_dir dir;
  reference_world w = build_reference_world(dir.path());
  std::unique_ptr<service> svc;
  watcher_fixture() {
    age_tree(w.home);
    age_tree(w.dev);
    auto s = settings_for(w, dir.path() / "db" / "projcache.db");
    // The suite runs once per backend: PROJCACHE_TEST_WATCHER=poll is a CTest entry of its own.
    if (const char* b = std::getenv("PROJCACHE_TEST_WATCHER")) s.watcher = b;
    s.poll_interval_ms = 50;
    svc = std::make_unique<service>(s);
    svc->job->set_on_full_refresh([this] { svc->watcher->resync(); });
    svc->refresh_all(false);
    BOOST_REQUIRE(svc->watcher->start());
    // Set up: every folder watched (inotify), or the first listing done (poll).
    BOOST_REQUIRE(wait_until([&] {
      auto st = svc->watcher->state();
      return st.watches > 10 && (st.backend != "poll" || st.backends.front().ticks >= 1);
    }));
    svc->rec.clear();
  }
  // Quiet: no debounce pending and no refresh queued or running.
  bool settled() { return svc->watcher->pending() == 0 && svc->job_idle(); }
  std::size_t completions(const std::string& id) { return svc->rec.of("refresh_completed", id).size(); }
};
}  // namespace

BOOST_AUTO_TEST_CASE(a_constant_stream_of_writes_still_refreshes_within_the_maximum_wait) {
  // Writes every 50 ms (for up to 10 s) against a 500 ms debounce: the trailing debounce alone
  // would wait until they stop; the 1 s maximum wait refreshes while they go on.
  temp_dir dir;
  auto w = build_reference_world(dir.path());
  age_tree(w.home);
  age_tree(w.dev);
  auto s = settings_for(w, dir.path() / "db" / "projcache.db");
  s.debounce_ms = 500;
  service svc(s);
  svc.refresh_all(false);
  BOOST_REQUIRE(svc.watcher->start());
  svc.rec.clear();
  std::atomic<bool> writing{true}, enough{false};
  std::thread writer([&] {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (int i = 0; !enough && std::chrono::steady_clock::now() < end; ++i) {
      write_file(w.dev / "app/.claude/agents/pm.md", "write " + std::to_string(i) + "\n");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the pace of the writes under test
    }
    writing = false;
  });
  bool seen_while_writing = false;
  while (writing && !seen_while_writing) {
    seen_while_writing = !svc.rec.of("changes_detected", w.app_id).empty();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a condition
  }
  enough = true;
  writer.join();
  BOOST_TEST(seen_while_writing);
}

// The watch limit is inotify's: a build without it (portable) skips this case.
boost::test_tools::assertion_result has_inotify(boost::unit_test::test_unit_id) {
  auto b = platform::watch_backends();
  return std::find(b.begin(), b.end(), "inotify") != b.end();
}

BOOST_AUTO_TEST_CASE(past_the_watch_limit_a_root_falls_back_to_the_poll_backend,
                     *boost::unit_test::precondition(has_inotify)) {
  // Three watches in all (as if fs.inotify.max_user_watches were reached): the roots that got
  // none are listed, and an edit under one of them is still picked up, by their poller.
  temp_dir dir;
  auto w = build_reference_world(dir.path());
  age_tree(w.home);
  age_tree(w.dev);
  service svc(settings_for(w, dir.path() / "db" / "projcache.db"));
  svc.job->set_on_full_refresh([&] { svc.watcher->resync(); });
  svc.refresh_all(false);
  svc.watcher->limit_watches(3, std::chrono::milliseconds(300));
  BOOST_REQUIRE(svc.watcher->start());
  auto app_root = (w.dev / "app/.claude").string();
  auto app_is_polled = [&] {
    auto fr = svc.watcher->state().fallback_roots;
    return std::find(fr.begin(), fr.end(), app_root) != fr.end();
  };
  BOOST_REQUIRE(wait_until(app_is_polled));  // set up on its strand
  // The count is published when the whole plan is in (the fallback starts in the middle of it).
  BOOST_REQUIRE(wait_until([&] { return svc.watcher->state().watches == 3; }));
  auto st = svc.watcher->state();
  BOOST_REQUIRE(st.backends.size() == 2u);  // inotify, and the poller of the roots past the limit
  BOOST_TEST(st.backends[1].backend == "poll");
  svc.rec.clear();
  write_file(w.dev / "app/.claude/agents/pm.md", "edited past the watch limit\n");
  BOOST_TEST(wait_until([&] { return !svc.rec.of("changes_detected", w.app_id).empty(); }));
}

BOOST_FIXTURE_TEST_SUITE(watcher_tests, watcher_fixture)

BOOST_AUTO_TEST_CASE(edit_refreshes_exactly_that_project) {
  write_file(w.dev / "app/.claude/agents/pm.md", "edited by the test\n");
  BOOST_REQUIRE(wait_until([&] { return !svc->rec.of("changes_detected", w.app_id).empty(); }));
  BOOST_TEST((svc->rec.of("changes_detected", w.app_id)[0].changed == std::vector<std::string>{w.app_id + ":.claude:agent:pm"}));
  BOOST_REQUIRE(wait_until([&] { return settled(); }));
  BOOST_TEST(completions(w.web_id) == 0u);
}

BOOST_AUTO_TEST_CASE(rapid_writes_coalesce_into_one_refresh) {
  for (int i = 0; i < 5; ++i) write_file(w.dev / "app/.claude/agents/pm.md", "write " + std::to_string(i) + "\n");
  BOOST_REQUIRE(wait_until([&] { return completions(w.app_id) >= 1; }));
  BOOST_REQUIRE(wait_until([&] { return settled(); }));
  // One refresh saw the writes. (The poll backend may add a refresh that finds nothing: a file
  // written within 50 ms of its lstat is reported once more, as a write in that clock tick
  // would leave its fields equal. So changes are counted, not refreshes.)
  BOOST_TEST(svc->rec.of("changes_detected", w.app_id).size() == 1u);
  if (svc->watcher->state().backend != "poll") BOOST_TEST(completions(w.app_id) == 1u);
  BOOST_TEST(svc->reads->project(w.app_id)->artifacts.size() == 6u);
}

BOOST_AUTO_TEST_CASE(collection_edit_refreshes_only_its_users) {
  write_file(w.home / "collections/team/skills/docs/SKILL.md", "---\nversion: 9.0.0\n---\nnew\n");
  BOOST_REQUIRE(wait_until([&] { return !svc->rec.of("changes_detected", w.web_id).empty(); }));
  BOOST_REQUIRE(wait_until([&] { return settled(); }));
  BOOST_TEST(completions(w.app_id) == 0u);
  BOOST_TEST(svc->reads->project(w.web_id)->outdated == 2);
}

BOOST_AUTO_TEST_CASE(moving_an_artifact_folder_is_seen) {
  fs::rename(w.dev / "app/.claude/skills/lint", w.dev / "app/.claude/skills/lint-old");
  BOOST_REQUIRE(wait_until([&] { return !svc->rec.of("changes_detected", w.app_id).empty(); }));
  BOOST_REQUIRE(wait_until([&] { return settled(); }));
  auto drift_of_lint = [&] {
    for (auto& a : svc->reads->project(w.app_id)->artifacts)
      if (a->name == "lint") return std::optional<std::string>(*a->drift);
    return std::optional<std::string>();
  };
  BOOST_REQUIRE(drift_of_lint().has_value());  // the row stays, its folder gone
  BOOST_TEST(*drift_of_lint() == "missing");
  fs::rename(w.dev / "app/.claude/skills/lint-old", w.dev / "app/.claude/skills/lint");
  BOOST_REQUIRE(wait_until([&] { return svc->rec.of("changes_detected", w.app_id).size() >= 2; }));
  BOOST_REQUIRE(drift_of_lint().has_value());
  BOOST_TEST(*drift_of_lint() == "conflict");
}

BOOST_AUTO_TEST_CASE(new_project_appears_and_deleted_one_goes) {
  write_file(w.dev / "fresh/.claude/skills/x/SKILL.md", "x\n");
  write_file(w.dev / "fresh/.claude/.skillmeat-deployed.toml",
             "[[deployed]]\nartifact_name = \"x\"\nartifact_type = \"skill\"\nartifact_path = \"skills/x\"\n");
  auto fresh_id = b64_id(w.dev / "fresh");
  BOOST_REQUIRE(wait_until([&] { return svc->reads->project(fresh_id) && svc->reads->project(fresh_id)->artifacts.size() == 1; }));
  BOOST_TEST(svc->rec.of("project_added", fresh_id).size() == 1u);

  fs::remove_all(w.dev / "clients");
  // The snapshot changes just before the event is published: wait for the event.
  BOOST_REQUIRE(wait_until([&] { return !svc->rec.of("project_removed", w.web_id).empty(); }));
  BOOST_TEST(!svc->reads->project(w.web_id));
  BOOST_TEST(svc->rec.of("project_removed", w.web_id).size() == 1u);
}

BOOST_AUTO_TEST_CASE(editor_churn_causes_nothing) {
  auto claude = w.dev / "app/.claude";
  write_file(claude / "agents/.pm.md.swp", "vim swap");
  write_file(claude / "agents/pm.md~", "backup");
  write_file(claude / "agents/4913", "vim probe");
  write_file(claude / "notes-unrelated.txt", "not an artifact");
  fs::remove(claude / "agents/.pm.md.swp");
  // A change that matters, after the churn: the watcher handles events in order.
  write_file(w.dev / "clients/web/.claude/skills/docs/extra.md", "x");
  BOOST_REQUIRE(wait_until([&] { return completions(w.web_id) >= 1; }));
  BOOST_REQUIRE(wait_until([&] { return settled(); }));
  BOOST_TEST(completions(w.app_id) == 0u);
}

BOOST_AUTO_TEST_CASE(overflow_rescans_and_asks_clients_to_resync) {
  svc->watcher->inject_overflow();
  BOOST_REQUIRE(wait_until([&] { return !svc->rec.of("resync_required").empty(); }));
  BOOST_REQUIRE(wait_until([&] { return completions(w.app_id) >= 1 && settled(); }));
  BOOST_TEST(completions(w.web_id) >= 1u);
}

BOOST_AUTO_TEST_CASE(stop_removes_every_watch) {
  svc->watcher->stop();
  BOOST_REQUIRE(wait_until([&] { return svc->watcher->state().watches == 0; }));
  BOOST_TEST(!svc->watcher->state().running);
}

BOOST_AUTO_TEST_SUITE_END()
