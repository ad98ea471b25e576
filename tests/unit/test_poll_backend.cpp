// The poll backend on a real tree: what it reports for each kind of change. The io_context runs
// on the test's thread; conditions are polled with run_for, never slept on.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <chrono>

#include "platform/watch_backend.hpp"
#include "support/world.hpp"

using namespace projcache;
using namespace projcache::test;
using platform::change_kind;
using platform::fs_change;

namespace {
struct poll_fixture {
  temp_dir dir;
  fs::path root = dir / "root";
  boost::asio::io_context ioc;
  // The walk runs on the backend's own thread: between a tick and its delivery the io_context
  // has nothing queued, and must not stop for that.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work = boost::asio::make_work_guard(ioc);
  platform::strand_type strand = boost::asio::make_strand(ioc);
  std::vector<fs_change> seen;
  std::unique_ptr<platform::watch_backend> b;

  explicit poll_fixture(std::size_t budget = 250'000) { make(budget); }
  void make(std::size_t budget) {
    platform::backend_context ctx{strand, {}, {}, {}, {}};
    ctx.changed = [this](std::vector<fs_change>&& batch) {
      for (auto& c : batch) seen.push_back(std::move(c));
    };
    ctx.overflow = [] {};
    ctx.limit_reached = [](const std::string&) {};
    ctx.enter = [](const platform::watch_root&, const std::string&, std::string_view name) { return name != "skip"; };
    platform::poll_options o;
    o.interval = std::chrono::milliseconds(20);
    o.max_entries_per_tick = budget;
    b = platform::make_poll_backend(ctx, o);
    BOOST_REQUIRE(b->start());
  }
  ~poll_fixture() {
    boost::asio::post(strand, [this] { b->stop(); });
    ioc.run_for(std::chrono::milliseconds(50));
    b.reset();
  }
  void watch(int depth = 64) {
    boost::asio::post(strand, [this, depth] { b->watch({{root.string(), depth}}); });
    BOOST_REQUIRE(ticks_past(b->figures().ticks + 1));  // the baseline listing
  }
  // Runs the io_context until `cond` or 10 s.
  template <class F>
  bool run_until(F&& cond) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!cond()) {
      if (std::chrono::steady_clock::now() > end) return false;
      ioc.run_for(std::chrono::milliseconds(5));
    }
    return true;
  }
  bool ticks_past(std::uint64_t n) {
    return run_until([&] { return b->figures().ticks >= n; });
  }
  bool saw(const std::string& rel, change_kind k) {
    std::string p = (root / rel).lexically_normal().string();
    while (p.back() == '/') p.pop_back();
    return std::any_of(seen.begin(), seen.end(), [&](const fs_change& c) { return c.path == p && c.kind == k; });
  }
  bool wait_for(const std::string& rel, change_kind k) {
    return run_until([&] { return saw(rel, k); });
  }
  // Two more full ticks with nothing new: what was reported is all there is.
  void settle() { BOOST_REQUIRE(ticks_past(b->figures().ticks + 2)); }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(poll_backend)

BOOST_FIXTURE_TEST_CASE(the_baseline_reports_nothing_then_creations_are_seen, poll_fixture) {
  write_file(root / "a.md", "a");
  write_file(root / "sub/b.md", "b");
  age_tree(root);
  watch();
  settle();
  BOOST_TEST(seen.empty());
  write_file(root / "c.md", "c");
  write_file(root / "new/deep/d.md", "d");  // a new tree: its contents are new too
  BOOST_TEST(wait_for("c.md", change_kind::created));
  BOOST_TEST(wait_for("new", change_kind::created));
  BOOST_TEST(wait_for("new/deep", change_kind::created));
  BOOST_TEST(wait_for("new/deep/d.md", change_kind::created));
  auto c = std::find_if(seen.begin(), seen.end(), [&](auto& x) { return x.path == (root / "new").string(); });
  BOOST_TEST(c->is_dir);
}

BOOST_FIXTURE_TEST_CASE(a_rewrite_with_the_same_size_and_mtime_is_seen, poll_fixture) {
  write_file(root / "pm.md", "aaaa");
  age_tree(root);
  auto mtime = fs::last_write_time(root / "pm.md");
  watch();
  settle();
  write_file(root / "pm.md", "bbbb");          // same size
  fs::last_write_time(root / "pm.md", mtime);  // and the mtime put back: only ctime tells
  BOOST_TEST(wait_for("pm.md", change_kind::modified));
}

BOOST_FIXTURE_TEST_CASE(a_file_written_just_before_its_listing_is_reported_once_more, poll_fixture) {
  // Within 50 ms of being read, a write in the same clock tick could leave every field equal:
  // such an entry is reported modified at its next visit (git's racy rule), then not again.
  watch();
  write_file(root / "racy.md", "r");
  BOOST_TEST(wait_for("racy.md", change_kind::created));
  BOOST_TEST(wait_for("racy.md", change_kind::modified));
  settle();
  auto n = std::count_if(seen.begin(), seen.end(), [](auto& c) { return c.kind == change_kind::modified; });
  settle();
  BOOST_TEST(std::count_if(seen.begin(), seen.end(), [](auto& c) { return c.kind == change_kind::modified; }) == n);
}

BOOST_FIXTURE_TEST_CASE(deletions_and_renames_are_seen, poll_fixture) {
  write_file(root / "gone.md", "g");
  write_file(root / "old.md", "o");
  write_file(root / "tree/x/y.md", "y");
  write_file(dir / "outside/in.md", "i");
  age_tree(dir.path());
  watch();
  settle();
  fs::remove(root / "gone.md");
  fs::rename(root / "old.md", root / "new.md");
  fs::remove_all(root / "tree");
  fs::rename(dir / "outside", root / "moved-in");
  BOOST_TEST(wait_for("gone.md", change_kind::removed));
  BOOST_TEST(wait_for("old.md", change_kind::removed));
  BOOST_TEST(wait_for("new.md", change_kind::created));
  BOOST_TEST(wait_for("tree", change_kind::removed));
  BOOST_TEST(wait_for("moved-in/in.md", change_kind::created));
  fs::rename(root / "moved-in", dir / "moved-out");
  BOOST_TEST(wait_for("moved-in", change_kind::removed));
  // The removed root itself is reported as inotify's DELETE_SELF would be.
  fs::remove_all(root);
  BOOST_TEST(run_until([&] {
    return std::any_of(seen.begin(), seen.end(), [&](auto& c) { return c.path == root.string() && c.kind == change_kind::removed; });
  }));
}

BOOST_FIXTURE_TEST_CASE(symlinks_are_not_followed_so_a_loop_costs_nothing, poll_fixture) {
  write_file(root / "a/file.md", "f");
  fs::create_directory_symlink("..", root / "a/loop");
  fs::create_directory_symlink(root, root / "self");
  age_tree(root);
  watch();
  settle();
  BOOST_TEST(b->figures().watches == 2);  // root and a: the links are entries, not folders
  BOOST_TEST(b->figures().entries == 4);  // a, self, a/file.md, a/loop
  write_file(root / "a/file.md", "changed");
  BOOST_TEST(wait_for("a/file.md", change_kind::modified));
  fs::remove(root / "a/loop");
  BOOST_TEST(wait_for("a/loop", change_kind::removed));
}

BOOST_FIXTURE_TEST_CASE(a_tree_that_appears_after_the_start_is_watched, poll_fixture) {
  watch();  // root does not exist yet
  settle();
  BOOST_TEST(seen.empty());
  write_file(root / "p/.claude/skills/x/SKILL.md", "x");
  BOOST_TEST(wait_for("p", change_kind::created));
  BOOST_TEST(wait_for("p/.claude/skills/x/SKILL.md", change_kind::created));
  seen.clear();
  write_file(root / "p/.claude/skills/x/SKILL.md", "edited");
  BOOST_TEST(wait_for("p/.claude/skills/x/SKILL.md", change_kind::modified));
}

BOOST_FIXTURE_TEST_CASE(depth_and_the_enter_rule_bound_what_is_listed, poll_fixture) {
  write_file(root / "d1/d2/deep.md", "d");
  write_file(root / "skip/inner.md", "s");
  age_tree(root);
  watch(1);  // root and its folders, not below
  settle();
  write_file(root / "d1/d2/deep.md", "changed");  // in d2: not listed
  write_file(root / "skip/inner.md", "changed");  // enter() says no
  write_file(root / "d1/top.md", "new");          // in d1: listed
  BOOST_TEST(wait_for("d1/top.md", change_kind::created));
  settle();
  BOOST_TEST(!saw("d1/d2/deep.md", change_kind::modified));
  BOOST_TEST(!saw("skip/inner.md", change_kind::modified));
}

BOOST_AUTO_TEST_CASE(a_small_budget_spreads_a_cycle_over_ticks_and_still_sees_everything) {
  poll_fixture f(5);  // five entries a tick: one root of seven a tick
  std::vector<platform::watch_root> roots;
  for (int d = 0; d < 4; ++d) {
    for (int i = 0; i < 6; ++i) write_file(f.root / ("d" + std::to_string(d)) / ("f" + std::to_string(i)), "x");
    roots.push_back({(f.root / ("d" + std::to_string(d))).string(), 64});
  }
  age_tree(f.root);
  boost::asio::post(f.strand, [&] { f.b->watch(roots); });
  BOOST_REQUIRE(f.run_until([&] { return f.b->figures().entries == 24; }));  // one whole cycle: 4 roots x 6 files
  auto t0 = f.b->figures().ticks;
  write_file(f.root / "d3/f5", "changed");
  BOOST_TEST(f.wait_for("d3/f5", change_kind::modified));
  BOOST_TEST(f.b->figures().ticks - t0 >= 2u);  // more than one tick to get round
}

BOOST_AUTO_TEST_SUITE_END()
