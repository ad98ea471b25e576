#include <boost/test/unit_test.hpp>

#include "cache/derive.hpp"
#include "cache/version_diff.hpp"

using projcache::cache::version_difference;
using opt = std::optional<std::string>;

BOOST_AUTO_TEST_SUITE(version_diff)

BOOST_AUTO_TEST_CASE(table) {
  struct row {
    opt a, b, want;
  };
  std::vector<row> rows{
      {"1.0.0", "2.0.0", "major version upgrade (1 -> 2)"},
      {"3.0.0", "1.9.9", "major version downgrade (3 -> 1)"},
      {"2.3.0", "2.1.0", "minor version downgrade (3 -> 1)"},
      {"2.0.0", "2.1.0", "minor version upgrade (0 -> 1)"},
      {"2.1.0", "2.1.5", "patch version upgrade (0 -> 5)"},
      {"2.1.5", "2.1.0", "patch version downgrade (5 -> 0)"},
      {"v1.0.0", "1.1.0", "minor version upgrade (0 -> 1)"},
      {"1.0.0", "1.0.0-rc.1", "downgrade to pre-release (rc.1)"},
      {"0.3.0-beta.1", "0.3.0", "upgrade to stable from pre-release (beta.1)"},
      {"1.0.0-alpha", "1.0.0-beta", "pre-release change (alpha -> beta)"},
      {"1.0.0+build.1", "1.0.0+build.2", std::nullopt},
      {"1.0.0", "1.0.0", std::nullopt},
      {"01.0.0", "2.0.0", "major version upgrade (1 -> 2)"},
      {"abc123", "def456", "abc123 -> def456"},
      {"1.0", "1.1", "1.0 -> 1.1"},
      {"1.0.0", "main", "1.0.0 -> main"},
      {"same", "same", std::nullopt},
      {"1.0.0-", "1.0.1", "1.0.0- -> 1.0.1"},
      {"1.0.0+", "1.0.1", "1.0.0+ -> 1.0.1"},
      {" v1.2.3 ", "1.3.0-rc.1+b.7", "minor version upgrade (2 -> 3)"},
      {"1.2.3-rc.1+b.7", "1.2.3-rc.2", "pre-release change (rc.1 -> rc.2)"},
      {"vv1.0.0", "1.0.0", "vv1.0.0 -> 1.0.0"},
      {std::nullopt, "1.0.0", std::nullopt},
      {"1.0.0", std::nullopt, std::nullopt},
      {"99999999999999999999.0.0", "100000000000000000000.0.0",
       "major version upgrade (99999999999999999999 -> 100000000000000000000)"},
  };
  for (auto& r : rows) {
    BOOST_TEST_CONTEXT(r.a.value_or("null") << " vs " << r.b.value_or("null")) {
      BOOST_TEST(version_difference(r.a, r.b).value_or("null") == r.want.value_or("null"));
    }
  }
}

BOOST_AUTO_TEST_CASE(drift_precedence) {
  using projcache::cache::artifact_hashes;
  using projcache::cache::drift_of;
  BOOST_TEST(drift_of(artifact_hashes{"d", std::nullopt, std::nullopt}) == "missing");
  BOOST_TEST(drift_of(artifact_hashes{"d", "x", std::nullopt}) == "removed");
  BOOST_TEST(drift_of(artifact_hashes{"d", "d", "d"}) == "synced");
  BOOST_TEST(drift_of(artifact_hashes{"d", "d", "c"}) == "outdated");
  BOOST_TEST(drift_of(artifact_hashes{"d", "l", "d"}) == "modified");
  BOOST_TEST(drift_of(artifact_hashes{"d", "l", "c"}) == "conflict");
  BOOST_TEST(projcache::cache::local_modified_of(artifact_hashes{"d", "x", std::nullopt}));
  BOOST_TEST(!projcache::cache::is_outdated_of(artifact_hashes{"d", std::nullopt, "c"}));
}

BOOST_AUTO_TEST_SUITE_END()
