#pragma once
// SkillMeat's content hash (contract 1.6), bit for bit, with incremental reuse: the hash of a
// file or folder is taken from the fingerprint cache while the stat listing below it (size,
// mtime_ns, inode of every file) digests to the value recorded with it. Thread-safe.
#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/sha256.hpp"
#include "db/types.hpp"

namespace projcache::cache {

struct hash_stats {
  std::atomic<std::uint64_t> files_opened{0};
  std::atomic<std::uint64_t> bytes_read{0};
  std::atomic<std::uint64_t> reused{0};
};

class fingerprint_cache {
 public:
  void load_one(db::fingerprint_row&& row);
  // The recorded hash when the recorded listing digest is this one (no row copied).
  std::optional<std::string> reuse(const std::string& path, const std::string& digest) const;
  void put(db::fingerprint_row row);
  // The rows put since the last call, to persist.
  std::vector<db::fingerprint_row> take_dirty();
  // Rows taken whose write failed: pending again (newer rows of the same paths win).
  void restore_dirty(std::vector<db::fingerprint_row> rows);
  // Put and not yet taken: seen just now, whatever the database says.
  bool pending(const std::string& path) const;
  std::size_t size() const;
  void clear();
  // Housekeeping: forget some; mark some (not yet persisted) seen again.
  void erase(const std::vector<std::string>& paths);
  void touch(const std::vector<std::string>& paths, micros seen_at);

 private:
  // What reuse needs of a row, in 40 bytes, keyed by a 64-bit hash of its path: the hash in
  // binary and a 64-bit hash of the listing digest. A wrong reuse would need two paths colliding
  // and their listings colliding too. The whole row lives in dirty_ only until persisted.
  struct entry {
    std::uint64_t digest_hash = 0;
    sha256_bytes sha{};
  };
  static std::optional<entry> pack(const db::fingerprint_row& row);

  // Both scan threads look up every file and folder here: one lock for all rows had them
  // waiting on each other for a third of the lookups' time. Sharded by the key.
  struct shard {
    mutable std::mutex mu;
    std::unordered_map<std::uint64_t, entry> rows;
  };
  static constexpr std::size_t shard_count = 16;
  shard& shard_of(std::uint64_t key) { return shards_[key % shard_count]; }
  const shard& shard_of(std::uint64_t key) const { return shards_[key % shard_count]; }

  std::array<shard, shard_count> shards_;
  mutable std::mutex dirty_mu_;
  std::unordered_map<std::string, db::fingerprint_row> dirty_;
};

// Something where a file or folder should be that a scan must not read: a FIFO, socket or
// device. Bad input on disk, like a malformed file: not retried.
class unreadable_input : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Hashing stopped because its attempt was cancelled (timed out, or the server is stopping).
class scan_cancelled : public std::runtime_error {
 public:
  scan_cancelled() : std::runtime_error("the scan was cancelled") {}
};

// Stops a scan's hashing, checked before every read: its attempt's own flag (set when the
// attempt times out or is abandoned) or the job's (set when the server stops, from any thread).
struct cancel_token {
  const std::atomic<bool>* attempt = nullptr;
  const std::atomic<bool>* all = nullptr;
  bool requested() const {
    return (attempt && attempt->load(std::memory_order_relaxed)) || (all && all->load(std::memory_order_relaxed));
  }
};

class content_hasher {
 public:
  // cache may be null (always hash); stats may be null.
  content_hasher(fingerprint_cache* cache, hash_stats* stats) : cache_(cache), stats_(stats) {}
  // The hash of p, or nothing when p does not exist. Throws unreadable_input when p is a FIFO,
  // socket or device (never opened), scan_cancelled once cancel is requested (checked before
  // each read), std::filesystem::filesystem_error on an I/O error.
  std::optional<std::string> hash(const std::filesystem::path& p, cancel_token cancel = {}) const;

 private:
  void feed_file(const std::filesystem::path& p, projcache::sha256& h, cancel_token cancel) const;
  fingerprint_cache* cache_;
  hash_stats* stats_;
};

}  // namespace projcache::cache
