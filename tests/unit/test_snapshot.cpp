// The read model's batch publish (with_projects) against the snapshot built from scratch: any
// batch of adds, removals, renames and refreshes must give the same projects, order and
// artifact index as build_snapshot over the resulting set.
#include <boost/test/unit_test.hpp>
#include <random>

#include "cache/snapshot.hpp"
#include "common/ascii.hpp"

using namespace projcache;
using namespace projcache::cache;

namespace {
const char* const names[] = {"alpha", "Beta", "beta", "gamma", "Delta", "docs", "DOCS", "lint"};

struct world_gen {
  std::mt19937 rng{20261201};
  int next_row = 0;
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }

  artifact_ptr artifact(const std::string& project, int i) {
    db::artifact_row a;
    a.id = project + ":a" + std::to_string(i) + "-" + std::to_string(next_row++);
    a.project_id = project;
    a.name = names[pick(8)];
    a.type = "skill";
    a.profile_root = ".claude";
    a.is_outdated = pick(3) == 0;
    a.drift = drift_names[static_cast<std::size_t>(pick(6))];
    return std::make_shared<const db::artifact_row>(std::move(a));
  }
  project_ptr project(const std::string& id, std::string name, std::vector<artifact_ptr> rows) {
    db::project_row r;
    r.id = id;
    r.name = std::move(name);
    r.path = "/dev/" + id;
    return make_project_entry(std::move(r), std::move(rows));
  }
  project_ptr fresh(const std::string& id) {
    std::vector<artifact_ptr> rows;
    int n = pick(5);
    for (int i = 0; i < n; ++i) rows.push_back(artifact(id, i));
    return project(id, names[pick(8)], std::move(rows));
  }
  // A refresh of `old`: the same name, some rows kept (shared), some replaced, some added.
  project_ptr refreshed(const project_entry& old) {
    std::vector<artifact_ptr> rows;
    for (auto& a : old.artifacts)
      if (pick(3) != 0) rows.push_back(pick(2) ? a : artifact(old.row.id, 90));
    if (pick(2)) rows.push_back(artifact(old.row.id, 91));
    return project(old.row.id, old.row.name, std::move(rows));
  }
};

void check_equal(const snapshot& got, const snapshot& want) {
  BOOST_REQUIRE_EQUAL(got.projects.size(), want.projects.size());
  for (auto& [id, p] : want.projects) {
    auto it = got.projects.find(id);
    BOOST_REQUIRE(it != got.projects.end());
    BOOST_TEST(it->second == p);
  }
  BOOST_REQUIRE_EQUAL(got.projects_sorted.size(), want.projects_sorted.size());
  for (std::size_t i = 0; i < want.projects_sorted.size(); ++i)
    BOOST_TEST(got.projects_sorted[i] == want.projects_sorted[i]);
  BOOST_TEST(got.outdated_artifacts == want.outdated_artifacts);
  const auto &g = *got.artifacts, &w = *want.artifacts;
  BOOST_TEST(g.items == w.items);
  BOOST_TEST(g.name_ids == w.name_ids);
  BOOST_TEST(g.outdated_flags == w.outdated_flags);
  BOOST_TEST(g.outdated == w.outdated);
  BOOST_REQUIRE_EQUAL(g.groups.size(), w.groups.size());
  for (std::size_t i = 0; i < w.groups.size(); ++i) {
    BOOST_TEST(g.groups[i].lower == w.groups[i].lower);
    BOOST_TEST(g.groups[i].begin == w.groups[i].begin);
    BOOST_TEST(g.groups[i].end == w.groups[i].end);
  }
}

snapshot_ptr from_scratch(const snapshot& s) {
  std::vector<project_ptr> all;
  for (auto& [_, p] : s.projects) all.push_back(p);
  return build_snapshot(std::move(all), s.generation);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(snapshot_batches)

BOOST_AUTO_TEST_CASE(a_batch_equals_the_snapshot_built_from_scratch) {
  world_gen gen;
  std::vector<project_ptr> start;
  for (int i = 0; i < 30; ++i) start.push_back(gen.fresh("p" + std::to_string(i)));
  snapshot_ptr snap = build_snapshot(start, 1);
  int next_id = 30;
  for (int round = 0; round < 300; ++round) {
    project_changes batch;
    int k = 1 + gen.pick(round % 10 == 0 ? 25 : 4);  // mostly small batches, now and then a big one
    for (int c = 0; c < k; ++c) {
      int what = gen.pick(10);
      if (what == 0 || snap->projects.empty()) {
        auto id = "p" + std::to_string(next_id++);
        batch[id] = gen.fresh(id);  // added
        continue;
      }
      auto it = std::next(snap->projects.begin(), gen.pick(static_cast<int>(snap->projects.size())));
      const auto& [id, p] = *it;
      if (what == 1) batch[id] = nullptr;  // removed
      else if (what == 2) batch[id] = gen.project(id, names[gen.pick(8)], p->artifacts);  // renamed
      else if (what == 3) batch[id] = gen.project(id, p->row.name, p->artifacts);  // only its row
      else batch[id] = gen.refreshed(*p);
    }
    auto next = with_projects(*snap, batch);
    BOOST_TEST(next->generation == snap->generation + 1);
    check_equal(*next, *from_scratch(*next));
    for (auto& [id, entry] : batch) {
      auto it = next->projects.find(id);
      BOOST_TEST((entry ? it != next->projects.end() && it->second == entry : it == next->projects.end()));
    }
    snap = next;
  }
  BOOST_TEST(next_id > 30);
}

// A start-up's index is sorted in parts and merged (over 4,096 artifacts): still in (lower
// name, id) order, and a batch published on it agrees with it.
BOOST_AUTO_TEST_CASE(a_large_index_is_in_name_then_id_order) {
  world_gen gen;
  std::vector<project_ptr> all;
  for (int i = 0; i < 3000; ++i) all.push_back(gen.fresh("p" + std::to_string(i)));
  auto snap = build_snapshot(all, 1);
  const auto& items = snap->artifacts->items;
  BOOST_REQUIRE(items.size() > 4096u);
  auto key = [](artifact_ref a) { return std::pair(ascii_lower(*a->name), a->id); };
  std::size_t out_of_order = 0;
  for (std::size_t i = 1; i < items.size(); ++i) out_of_order += key(items[i - 1]) < key(items[i]) ? 0 : 1;
  BOOST_TEST(out_of_order == 0u);
  project_changes batch{{"p7", gen.refreshed(*snap->projects.at("p7"))}, {"new", gen.fresh("new")}, {"p9", nullptr}};
  auto next = with_projects(*snap, batch);
  check_equal(*next, *from_scratch(*next));
}

BOOST_AUTO_TEST_CASE(an_unchanged_index_is_shared) {
  world_gen gen;
  auto snap = build_snapshot({gen.fresh("a"), gen.fresh("b")}, 1);
  auto a = snap->projects.at("a");
  // Only the project row moved (a fetch time): the same artifact vector, so the same index.
  auto next = with_projects(*snap, {{"a", gen.project("a", a->row.name, a->artifacts)}});
  BOOST_TEST(next->artifacts == snap->artifacts);
  // An empty project leaving changes nothing in the index either.
  auto with_empty = with_projects(*next, {{"e", gen.project("e", "empty", {})}});
  BOOST_TEST(with_empty->artifacts == next->artifacts);
  BOOST_TEST(with_projects(*with_empty, {{"e", nullptr}})->artifacts == next->artifacts);
  BOOST_TEST(with_projects(*snap, {})->projects.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
