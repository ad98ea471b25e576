#pragma once
// Reads one project from disk into rows (contract 1.8). Runs on a worker thread; shares the
// parsed collections and the fingerprint cache with the other scans.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/content_hash.hpp"
#include "cache/toml_readers.hpp"
#include "db/types.hpp"

namespace projcache::cache {

struct collection_snapshot {
  std::string name;
  std::filesystem::path dir;
  bool exists = false;
  collection_file file;
  lock_file lock;
  std::optional<read_error> error;
  std::map<std::pair<std::string, std::string>, const collection_artifact*> by_key;  // (name, type)
  std::string stamp;  // stat of collection.toml and collection.lock when read
};

// Parsed collections, re-read when their files' stat changes.
class collection_store {
 public:
  explicit collection_store(std::filesystem::path home) : home_(std::move(home)) {}
  std::shared_ptr<const collection_snapshot> get(const std::string& name);
  const std::filesystem::path& home() const { return home_; }

 private:
  std::filesystem::path home_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const collection_snapshot>> cache_;
};

// Parsed deployment files, reused while the file's size, mtime and inode are unchanged: TOML
// parsing is most of a warm scan. A file written in the last 50 ms is parsed every time.
class deployed_cache {
 public:
  using entries = std::shared_ptr<const std::vector<deployed_entry>>;
  read_result<entries> read(const std::filesystem::path& file);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::pair<std::string, entries>> cache_;
};

// Collection artifact hashes computed once per refresh batch (1,000 projects share them).
class collection_memo {
 public:
  std::optional<std::string> hash(const std::filesystem::path& p, const content_hasher& h,
                                  cancel_token cancel = {});

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::optional<std::string>> hashes_;
};

struct project_scan {
  std::string id;
  std::filesystem::path path;
  std::string name;
  std::optional<std::string> description;
  std::vector<std::string> profile_roots;
  std::vector<db::artifact_row> artifacts;  // sorted by id; timestamps left to the writer
  std::set<std::string> collections_used;
  std::optional<read_error> error;
};

struct scan_context {
  collection_store& collections;
  const content_hasher& hasher;
  collection_memo& memo;
  deployed_cache* deployed = nullptr;  // optional: parse every time without it
  cancel_token cancel{};  // requested: the hashing stops before its next read
  // Test seam: runs before the project is read; what it throws fails the scan as an I/O error
  // would (the refresh job's set_scan_fault).
  std::function<void()> before_read{};
};

// Keyed by views of the rows' own ids: the caller keeps the rows alive through the scan.
using previous_rows = std::unordered_map<std::string_view, const db::artifact_row*>;

// `path` must be resolved. `previous` (may be empty) lets an unchanged copy keep its version
// without opening its main .md again. Never throws for what the disk holds or does: every
// failure is `error` (retryable when it may pass), with no artifacts.
project_scan scan_project(const std::filesystem::path& path, const scan_context& ctx,
                          const previous_rows& previous);

}  // namespace projcache::cache
