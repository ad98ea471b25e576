#include <boost/test/unit_test.hpp>

#include "cache/discovery.hpp"
#include "cache/front_matter.hpp"
#include "cache/scanner.hpp"
#include "cache/toml_readers.hpp"
#include "common/base64.hpp"
#include "common/paths.hpp"
#include "support/world.hpp"

using namespace projcache;
using namespace projcache::cache;
using namespace projcache::test;

namespace {
struct world_fixture {
  temp_dir dir;
  reference_world w = build_reference_world(dir.path());
  fingerprint_cache fps;
  hash_stats stats;
  content_hasher hasher{&fps, &stats};
  collection_store collections{w.home};
  project_scan scan(const fs::path& p) {
    collection_memo memo;
    return scan_project(p, scan_context{collections, hasher, memo}, {});
  }
};
std::string opt(const std::optional<std::string>& s) { return s.value_or(""); }
std::string opt(const projcache::shared_text& s) { return s.value_or(""); }
}  // namespace

BOOST_FIXTURE_TEST_SUITE(reference, world_fixture)

BOOST_AUTO_TEST_CASE(discovery_finds_the_projects_and_only_them) {
  auto found = discover_projects({w.dev}, {}, 3);
  std::vector<std::string> rel;
  for (auto& p : found) rel.push_back(fs::relative(p, w.dev).string());
  std::sort(rel.begin(), rel.end());
  BOOST_TEST(rel == (std::vector<std::string>{"a/b/deep", "app", "broken", "clients/web"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(explicit_projects_and_symlink_loops) {
  fs::create_directory_symlink(w.dev, w.dev / "a" / "loop");  // dev/a/loop -> dev
  auto found = discover_projects({w.dev}, {w.dev / "a/b/c/deeper"}, 3);
  BOOST_TEST(found.size() == 5u);  // the four, the explicit one; the loop adds nothing
  BOOST_TEST(std::count(found.begin(), found.end(), w.dev / "a/b/c/deeper") == 1);
}

BOOST_AUTO_TEST_CASE(an_artifact_path_that_leaves_the_profile_root_is_refused) {
  // An absolute path, or one climbing out: never read, the project fails naming the file and line.
  for (std::string bad : {"/etc/passwd", "../../outside", "skills/../../x"}) {
    BOOST_TEST_CONTEXT(bad) {
      fs::path p = w.dev / "escape";
      write_file(p / ".claude/.skillmeat-deployed.toml",
                 "[[deployed]]\nartifact_name = \"x\"\nartifact_type = \"skill\"\nartifact_path = \"" + bad + "\"\n");
      auto s = scan(p);
      BOOST_REQUIRE(s.error.has_value());
      BOOST_TEST(s.error->text().find("leaves the profile root") != std::string::npos);
      BOOST_TEST(s.error->text().find(".skillmeat-deployed.toml:1") != std::string::npos);
      BOOST_TEST(s.artifacts.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(every_artifact_matches_the_expected_derivation) {
  std::map<std::string, projcache::db::artifact_row> got;
  for (auto rel : {"app", "clients/web", "a/b/deep"}) {
    auto s = scan(w.dev / rel);
    BOOST_REQUIRE_MESSAGE(!s.error, rel << ": " << (s.error ? s.error->text() : ""));
    for (auto& a : s.artifacts) got[a.id] = a;
  }
  BOOST_TEST(got.size() == w.artifacts.size());
  for (auto& [id, e] : w.artifacts) {
    BOOST_TEST_CONTEXT("artifact " << id) {
      BOOST_REQUIRE(got.count(id));
      auto& a = got[id];
      BOOST_TEST(a.drift == e.drift);
      BOOST_TEST(opt(a.deployed_hash) == e.deployed_hash);
      BOOST_TEST(opt(a.local_hash) == e.local_hash);
      BOOST_TEST(opt(a.collection_hash) == e.collection_hash);
      BOOST_TEST(opt(a.deployed_version) == e.deployed_version);
      BOOST_TEST(opt(a.upstream_version) == e.upstream_version);
      BOOST_TEST(a.is_outdated == e.is_outdated);
      BOOST_TEST(a.local_modified == e.local_modified);
    }
  }
}

BOOST_AUTO_TEST_CASE(project_names_sources_and_metadata) {
  auto web = scan(w.dev / "clients/web");
  BOOST_TEST(web.id == w.web_id);
  BOOST_TEST(web.name == "Web Frontend");
  BOOST_TEST(opt(web.description) == "The web client");
  BOOST_TEST((web.profile_roots == std::vector<std::string>{".claude", ".codex"}));
  auto app = scan(w.dev / "app");
  BOOST_TEST(app.name == "app");
  int checked = 0;
  for (auto& a : app.artifacts) {
    if (a.name == "canvas-design") {
      ++checked;
      BOOST_TEST(opt(a.source) == "https://github.com/example/skills/tree/main/canvas-design");
      BOOST_TEST(opt(a.tags) == "design,canvas");
      BOOST_TEST(opt(a.description) == "Design on a canvas");
      BOOST_TEST(opt(a.metadata_json).find("\"title\":\"Canvas Design\"") != std::string::npos);
    }
    if (a.name == "pm") {
      ++checked;
      BOOST_TEST(opt(a.source) == "local:default");
    }
  }
  BOOST_TEST(checked == 2);  // both artifacts were there to check
  auto deep = scan(w.dev / "a/b/deep");
  BOOST_TEST(!deep.error);
  BOOST_TEST(deep.artifacts.empty());
}

BOOST_AUTO_TEST_CASE(broken_project_names_file_and_line) {
  auto s = scan(w.dev / "broken");
  BOOST_REQUIRE(s.error.has_value());
  BOOST_TEST(s.error->file == (w.dev / "broken/.claude/.skillmeat-deployed.toml").string());
  BOOST_TEST(s.error->line == 1);
  BOOST_TEST(!s.error->retryable);
  BOOST_TEST(s.error->text().find(".skillmeat-deployed.toml:1:") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(broken_collection_fails_only_its_users) {
  write_file(w.home / "collections/team/collection.toml", "[collection\nname=1\n");
  BOOST_TEST(scan(w.dev / "clients/web").error.has_value());
  BOOST_TEST(!scan(w.dev / "app").error.has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(readers)

BOOST_AUTO_TEST_CASE(wrong_type_for_a_known_key_is_an_error_with_its_line) {
  temp_dir d;
  write_file(d / "dep.toml", "[[deployed]]\nartifact_name = \"x\"\nartifact_type = \"skill\"\n\n[[deployed]]\nartifact_name = 5\nartifact_type = \"skill\"\n");
  auto r = read_deployed(d / "dep.toml");
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().line == 6);
  BOOST_TEST(r.error().message.find("artifact_name") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unknown_keys_ignored_and_open_types_kept) {
  temp_dir d;
  write_file(d / "c.toml",
             "[collection]\nname = \"c\"\nshiny = true\n[[artifacts]]\nname = \"w\"\ntype = \"workflow\"\npath = \"w\"\nnew_key = 1\n");
  auto c = read_collection(d / "c.toml");
  BOOST_REQUIRE(c.has_value());
  BOOST_TEST(c->artifacts.at(0).type == "workflow");
  write_file(d / "bad.toml", "[[deployed]]\nartifact_name = \"x\"\nartifact_type = \"Not A Type\"\n");
  auto bad = read_deployed(d / "bad.toml");
  BOOST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error().message.find("unknown artifact type") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(metadata_from_front_matter_is_read_leniently) {
  temp_dir d;
  write_file(d / "c.toml", "[[artifacts]]\nname = \"a\"\ntype = \"skill\"\n[artifacts.metadata]\nversion = 1.0\n"
                           "tags = [\"x\", 3]\n[[artifacts]]\nname = \"b\"\ntype = \"skill\"\n[artifacts.metadata]\nversion = 2\n");
  auto c = read_collection(d / "c.toml");
  BOOST_REQUIRE(c.has_value());
  BOOST_TEST(c->artifacts[0].metadata_version.value() == "1.0");
  BOOST_TEST(c->artifacts[0].metadata_tags == std::vector<std::string>{"x"});
  BOOST_TEST(c->artifacts[1].metadata_version.value() == "2");
}

BOOST_AUTO_TEST_CASE(missing_lock_is_empty_and_lock_entries_read) {
  temp_dir d;
  BOOST_TEST(read_lock(d / "none.lock")->empty());
  write_file(d / "c.lock", "[lock]\nversion = \"1\"\n[lock.entries.\"a::skill\"]\ncontent_hash = \"ab\"\nresolved_version = \"v1\"\n");
  auto l = read_lock(d / "c.lock");
  BOOST_TEST(l->at("a::skill").resolved_version.value() == "v1");
}

BOOST_AUTO_TEST_CASE(path_escaping_the_profile_root_is_refused) {
  temp_dir d;
  write_file(d / "p/.claude/.skillmeat-deployed.toml",
             "[[deployed]]\nartifact_name = \"x\"\nartifact_type = \"skill\"\nartifact_path = \"../../etc\"\n");
  fingerprint_cache fps;
  content_hasher h(&fps, nullptr);
  collection_store cs(d / "home");
  collection_memo memo;
  auto s = scan_project(d / "p", scan_context{cs, h, memo}, {});
  BOOST_REQUIRE(s.error.has_value());
  BOOST_TEST(s.error->message.find("leaves the profile root") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(front_matter_versions) {
  BOOST_TEST(front_matter_version("---\nname: x\nversion: 1.2.3\n---\nbody").value() == "1.2.3");
  BOOST_TEST(front_matter_version("---\r\nversion: \"2.0.0\"\r\n---\r\n").value() == "2.0.0");
  BOOST_TEST(front_matter_version("---\nversion: 3.0 # comment\n---\n").value() == "3.0");
  BOOST_TEST(!front_matter_version("---\nmeta:\n  version: 1\n---\n"));  // not top level
  BOOST_TEST(!front_matter_version("no front matter\nversion: 1\n"));
  BOOST_TEST(!front_matter_version("---\nname: x\n---\nversion: 1\n"));  // after the block
  temp_dir d;
  write_file(d / "s/zeta.md", "---\nversion: 9\n---\n");
  write_file(d / "s/Skill.MD", "---\nversion: 4.0.0\n---\n");
  BOOST_TEST(artifact_version(d / "s").value() == "4.0.0");
  write_file(d / "t/b.md", "---\nversion: b\n---\n");
  write_file(d / "t/a.md", "---\nversion: a\n---\n");
  BOOST_TEST(artifact_version(d / "t").value() == "a");
}

BOOST_AUTO_TEST_CASE(project_id_is_base64_of_the_path) {
  BOOST_TEST(project_id_of("/Users/john/projects/my-project") == "L1VzZXJzL2pvaG4vcHJvamVjdHMvbXktcHJvamVjdA==");
  BOOST_TEST(base64_encode("a") == "YQ==");
  BOOST_TEST(base64_encode("ab") == "YWI=");
}

// Found by fuzz_ids_paths: a padded group whose dropped bits are not zero ("cAh=" for "p\x08")
// decoded, so one byte string had several spellings.
BOOST_AUTO_TEST_CASE(base64_has_one_spelling_per_byte_string) {
  BOOST_TEST(base64_decode("cAg=").value() == std::string("p\x08"));
  BOOST_TEST(!base64_decode("cAh=").has_value());
  BOOST_TEST(base64_decode("YQ==").value() == "a");
  BOOST_TEST(!base64_decode("YR==").has_value());
  BOOST_TEST(!base64_decode("L3RtcC9wcm9q2YFjaGUtZnV6ei1odHRwL4Rldi93ZWJHcAh=").has_value());
  BOOST_TEST(!base64_decode("").has_value());  // no id is empty
  BOOST_TEST(!base64_decode("YQ=").has_value());
  BOOST_TEST(!base64_decode("Y===").has_value());
}

BOOST_AUTO_TEST_CASE(safe_relative_paths_stay_inside) {
  for (auto* ok : {"skills/lint", "a/./b", "commands/review.md", "x..y", "..x/y", "a//b", "skills/lint/", "...", "./x"}) BOOST_TEST(safe_relative_path(ok), ok);
  for (auto* bad : {"", "/etc/passwd", "../x", "a/../../b", "a/..", "..", "a//../b", "//x", "../"}) BOOST_TEST(!safe_relative_path(bad), bad);
  BOOST_TEST(!safe_relative_path(std::string_view("a\0b", 3)));  // a NUL would cut the path short
}

BOOST_AUTO_TEST_SUITE_END()
