#pragma once
// Temporary folders and SkillMeat worlds written by the tests themselves (no ../shared).
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace projcache::test {

namespace fs = std::filesystem;

class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& s) const { return path_ / s; }

 private:
  fs::path path_;
};

void write_file(const fs::path& p, std::string_view content);
std::string read_file(const fs::path& p);
// SHA-256 by OpenSSL's one-shot SHA256(), not the code under test.
std::string sha256_hex(std::string_view data);
// Sets a file's mtime into the past, so racy-timestamp protection does not apply.
void age_tree(const fs::path& p, int seconds_ago = 10);
std::string b64_id(const fs::path& resolved);

// The reference world (the shape of shared/fixtures/make_world.py): a home with collections
// "default" and "team", and under dev/: app (every drift state), clients/web (two profile
// roots), a/b/deep (empty, found), a/b/c/deeper (too deep), app2/node_modules/pkg (pruned),
// broken (malformed deployment file).
struct reference_world {
  fs::path home, dev;
  std::string app_id, web_id, deep_id, broken_id;
  // expected, by artifact id: drift, deployed/local/collection hash, versions
  struct expected_artifact {
    std::string drift;
    std::string deployed_hash, local_hash, collection_hash;  // "" for null
    std::string deployed_version, upstream_version;          // "" for null
    bool is_outdated, local_modified;
  };
  std::map<std::string, expected_artifact> artifacts;
};
reference_world build_reference_world(const fs::path& root);

}  // namespace projcache::test
