#pragma once
// What scans keep between runs so that an unchanged file costs a stat, not a read: the content
// fingerprints (persisted by the store, which loads them at open and writes the new ones with
// each project), the parsed collections and deployment files, and the hashing counters. The
// service owns them; the refresh job's scans read and fill them from the scan pool.
#include <filesystem>

#include "cache/content_hash.hpp"
#include "cache/scanner.hpp"

namespace projcache::cache {

struct scan_caches {
  explicit scan_caches(const std::filesystem::path& home) : collections(home) {}
  scan_caches(const scan_caches&) = delete;
  scan_caches& operator=(const scan_caches&) = delete;

  fingerprint_cache fingerprints;
  hash_stats stats;
  content_hasher hasher{&fingerprints, &stats};
  collection_store collections;
  deployed_cache deployed;
};

}  // namespace projcache::cache
