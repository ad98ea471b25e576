// The change router and the debounce arithmetic: synthetic paths and times, no file system.
#include <boost/test/unit_test.hpp>

#include "cache/debouncer.hpp"
#include "cache/watch_router.hpp"

using namespace projcache;
using namespace projcache::cache;
using platform::change_kind;
using platform::fs_change;
using key = debounce_key;

namespace {
// /h/collections, search root /dev, projects /dev/app (root .claude) and /dev/web (.claude,
// .codex); only "skills/lint" and "agents/pm.md" of app are artifacts.
struct router_fixture {
  watch_world w{"/h/collections", {"/dev"}, {"/work/new"}, {{"/dev/app/.claude", "app"},
                                                         {"/dev/web/.claude", "web"},
                                                         {"/dev/web/.codex", "web"}}, 3};
  change_router r{w, [](const std::string& id, const std::string& root, const std::string& rel) {
                    return id == "app" && root == "/dev/app/.claude" &&
                           (rel == "skills/lint" || rel.starts_with("skills/lint/") || rel == "agents/pm.md" ||
                            rel == "skills" || rel == "agents");
                  }};
  route at(std::string path, change_kind k = change_kind::modified, bool dir = false) const {
    return r.route_change(fs_change{std::move(path), k, dir});
  }
  static route keys(std::vector<key> k, bool resync = false) { return route{std::move(k), resync}; }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(watch_router, router_fixture)

BOOST_AUTO_TEST_CASE(an_artifact_file_touches_its_project_only) {
  BOOST_TEST((at("/dev/app/.claude/skills/lint/SKILL.md") == keys({key::project("app")})));
  BOOST_TEST((at("/dev/app/.claude/agents/pm.md") == keys({key::project("app")})));
  // Not an artifact of app: nothing to refresh.
  BOOST_TEST((at("/dev/app/.claude/notes.txt") == keys({})));
  // The deployment and project files always matter.
  BOOST_TEST((at("/dev/web/.codex/.skillmeat-project.toml") == keys({key::project("web")})));
  BOOST_TEST((at("/dev/web/.claude/.skillmeat-deployed.toml") == keys({key::project("web")})));
}

BOOST_AUTO_TEST_CASE(the_deployment_file_coming_or_going_also_rescans) {
  BOOST_TEST((at("/dev/web/.claude/.skillmeat-deployed.toml", change_kind::created) ==
              keys({key::rescan(), key::project("web")})));
  BOOST_TEST((at("/dev/web/.claude/.skillmeat-deployed.toml", change_kind::removed) ==
              keys({key::rescan(), key::project("web")})));
}

BOOST_AUTO_TEST_CASE(a_profile_root_removed_or_renamed_away_rescans) {
  BOOST_TEST((at("/dev/app/.claude", change_kind::removed, true) == keys({key::rescan()})));
  // Renamed into the tree: a folder appearing in the search tree (a project may have come).
  BOOST_TEST((at("/dev/app2", change_kind::created, true) == keys({key::rescan()})));
  BOOST_TEST((at("/dev/app2", change_kind::removed, true) == keys({key::rescan()})));
}

BOOST_AUTO_TEST_CASE(collections_touch_the_users_of_that_collection) {
  BOOST_TEST((at("/h/collections/team/skills/docs/SKILL.md") == keys({key::collection("team")})));
  BOOST_TEST((at("/h/collections/team", change_kind::removed, true) == keys({key::collection("team")})));
  // The folder itself: every collection.
  BOOST_TEST((at("/h/collections", change_kind::modified, true) == keys({key::collection("")})));
}

BOOST_AUTO_TEST_CASE(a_new_project_folder_under_a_search_root_rescans) {
  BOOST_TEST((at("/dev/fresh", change_kind::created, true) == keys({key::rescan()})));
  BOOST_TEST((at("/dev/fresh/.claude", change_kind::created, true) == keys({key::rescan()})));
  BOOST_TEST((at("/dev/fresh/.claude/.skillmeat-deployed.toml", change_kind::created) == keys({key::rescan()})));
  // A plain file written in the search tree is no project.
  BOOST_TEST((at("/dev/readme.md", change_kind::created) == keys({})));
  BOOST_TEST((at("/dev/fresh/main.c") == keys({})));
}

BOOST_AUTO_TEST_CASE(editor_droppings_and_tool_folders_are_ignored) {
  for (auto p : {"/dev/app/.claude/agents/.pm.md.swp", "/dev/app/.claude/agents/pm.md~", "/dev/app/.claude/agents/4913",
                 "/dev/app/.claude/agents/.#pm.md", "/dev/app/.claude/skills/lint/x.tmp",
                 "/dev/app/.claude/skills/lint/.DS_Store", "/dev/app/.git/index", "/dev/node_modules",
                 "/dev/app/node_modules/x/y.js", "/h/collections/team/__pycache__/a.pyc"})
    BOOST_TEST((at(p, change_kind::created) == keys({})), p);
}

BOOST_AUTO_TEST_CASE(a_missing_root_appearing_resyncs_and_rescans) {
  BOOST_TEST((at("/work/new", change_kind::created, true) == keys({key::rescan()}, true)));
  BOOST_TEST((at("/work", change_kind::created, true) == keys({key::rescan()}, true)));  // leads to it
  BOOST_TEST((at("/work/other", change_kind::created, true) == keys({})));
  // The collections folder appearing: every project's drift may change.
  watch_world w2 = w;
  w2.missing_roots = {"/h/collections"};
  change_router r2(w2, [](auto&, auto&, auto&) { return false; });
  BOOST_TEST((r2.route_change({"/h/collections", change_kind::created, true}) ==
              keys({key::rescan(), key::collection("")}, true)));
}

BOOST_AUTO_TEST_CASE(backends_skip_pruned_folders_and_profile_roots_in_search_trees) {
  platform::watch_root dev{"/dev", 4}, claude{"/dev/app/.claude", 64};
  BOOST_TEST(r.enter(dev, "/dev", "fresh"));
  BOOST_TEST(!r.enter(dev, "/dev/app", ".claude"));   // a profile root: watched as its own root
  BOOST_TEST(!r.enter(dev, "/dev", "node_modules"));  // pruned (discovery's rule)
  BOOST_TEST(!r.enter(dev, "/dev/x", ".git"));
  BOOST_TEST(r.enter(claude, "/dev/app/.claude", "skills"));
  BOOST_TEST(!r.enter(claude, "/dev/app/.claude/skills", "__pycache__"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(debounce)

using clock_type = debounce_schedule::clock;
using std::chrono::milliseconds;

BOOST_AUTO_TEST_CASE(a_key_fires_once_quiet_for_the_debounce) {
  debounce_schedule s(milliseconds(100), milliseconds(1000));
  auto t0 = clock_type::time_point{} + std::chrono::hours(1);
  s.touch(key::project("a"), t0);
  s.touch(key::project("a"), t0 + milliseconds(50));  // trailing: pushes the deadline
  BOOST_TEST(s.pending() == 1u);
  BOOST_TEST((*s.next_deadline() == t0 + milliseconds(150)));
  BOOST_TEST(s.take_due(t0 + milliseconds(149)).empty());
  BOOST_TEST((s.take_due(t0 + milliseconds(150)) == std::vector<key>{key::project("a")}));
  BOOST_TEST(s.pending() == 0u);
  BOOST_TEST(!s.next_deadline());
}

BOOST_AUTO_TEST_CASE(a_constant_stream_fires_at_the_maximum_wait) {
  debounce_schedule s(milliseconds(100), milliseconds(1000));
  auto t0 = clock_type::time_point{} + std::chrono::hours(1);
  for (int i = 0; i <= 30; ++i) s.touch(key::rescan(), t0 + milliseconds(50 * i));  // every 50 ms for 1.5 s
  BOOST_TEST((*s.next_deadline() == t0 + milliseconds(1000)));
}

BOOST_AUTO_TEST_CASE(keys_are_independent_and_due_in_deadline_order) {
  debounce_schedule s(milliseconds(100), milliseconds(1000));
  auto t0 = clock_type::time_point{} + std::chrono::hours(1);
  s.touch(key::project("late"), t0 + milliseconds(30));
  s.touch(key::collection("team"), t0 + milliseconds(10));
  s.touch(key::rescan(), t0 + milliseconds(20));
  s.touch(key::project("other"), t0 + milliseconds(500));
  auto due = s.take_due(t0 + milliseconds(200));
  BOOST_TEST((due == std::vector<key>{key::collection("team"), key::rescan(), key::project("late")}));
  BOOST_TEST(s.pending() == 1u);
  // A project and a collection of the same name are different keys.
  s.touch(key::collection("other"), t0 + milliseconds(500));
  BOOST_TEST(s.pending() == 2u);
}

BOOST_AUTO_TEST_CASE(the_timer_fires_each_key_once_after_its_debounce) {
  // The asio wrapper, on a real timer: fires each key once, none before its debounce.
  boost::asio::io_context ioc;
  auto strand = boost::asio::make_strand(ioc);
  std::vector<std::pair<key, clock_type::time_point>> fired;
  debouncer d(strand, milliseconds(40), [&](const key& k) { fired.emplace_back(k, clock_type::now()); });
  auto t0 = clock_type::now();
  boost::asio::post(strand, [&] {
    d.touch(key::project("a"));
    d.touch(key::project("b"));
    d.touch(key::project("a"));
  });
  ioc.run();  // returns once the timer has nothing left to wait for
  BOOST_REQUIRE(fired.size() == 2u);
  for (auto& [k, at] : fired) BOOST_TEST((at - t0 >= milliseconds(40)));
  BOOST_TEST(d.pending() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
