#include "cache/content_hash.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "common/fnv.hpp"
#include "common/sha256.hpp"

namespace fs = std::filesystem;

namespace projcache::cache {

void fingerprint_cache::load(std::vector<db::fingerprint_row> rows) {
  std::lock_guard lk(mu_);
  for (auto& r : rows) rows_[r.path] = std::move(r);
}

std::optional<std::string> fingerprint_cache::reuse(const std::string& path, const std::string& digest) const {
  std::lock_guard lk(mu_);
  auto it = rows_.find(path);
  if (it == rows_.end() || it->second.listing_digest != digest) return std::nullopt;
  return it->second.sha256;
}

void fingerprint_cache::put(db::fingerprint_row row) {
  std::lock_guard lk(mu_);
  dirty_[row.path] = true;
  rows_[row.path] = std::move(row);
}

std::vector<db::fingerprint_row> fingerprint_cache::take_dirty() {
  std::lock_guard lk(mu_);
  std::vector<db::fingerprint_row> out;
  out.reserve(dirty_.size());
  for (auto& [path, _] : dirty_)
    if (auto it = rows_.find(path); it != rows_.end()) out.push_back(it->second);
  dirty_.clear();
  return out;
}

std::size_t fingerprint_cache::size() const {
  std::lock_guard lk(mu_);
  return rows_.size();
}

void fingerprint_cache::clear() {
  std::lock_guard lk(mu_);
  rows_.clear();
  dirty_.clear();
}

std::vector<std::string> fingerprint_cache::seen_before(micros cutoff) const {
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  for (auto& [path, r] : rows_)
    if (r.seen_at < cutoff && !dirty_.count(path)) out.push_back(path);
  return out;
}

void fingerprint_cache::erase(const std::vector<std::string>& paths) {
  std::lock_guard lk(mu_);
  for (auto& p : paths) {
    rows_.erase(p);
    dirty_.erase(p);
  }
}

void fingerprint_cache::touch(const std::vector<std::string>& paths, micros seen_at) {
  std::lock_guard lk(mu_);
  for (auto& p : paths)
    if (auto it = rows_.find(p); it != rows_.end()) it->second.seen_at = seen_at;
}

namespace {

constexpr std::int64_t racy_window_ns = 50'000'000;

struct entry {
  std::vector<std::string> parts;  // path components relative to the folder
  std::string rel;                 // joined with '/'
  fs::path full;
  struct stat st;
};

std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

[[noreturn]] void io_error(const std::string& what, const fs::path& p) {
  throw fs::filesystem_error(what, p, std::error_code(errno, std::generic_category()));
}

// Every regular file below dir (symlinks to files followed, symlinked folders not entered),
// like Python's Path.rglob("*") + is_file().
void walk(const fs::path& dir, std::vector<std::string>& prefix, std::vector<entry>& out) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw fs::filesystem_error("cannot list folder", dir, ec);
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) throw fs::filesystem_error("cannot list folder", dir, ec);
    const auto& p = it->path();
    struct stat lst, st;
    if (::lstat(p.c_str(), &lst) != 0) continue;  // vanished meanwhile
    bool is_link = S_ISLNK(lst.st_mode);
    if (is_link) {
      if (::stat(p.c_str(), &st) != 0) continue;  // dangling link: not a file
    } else {
      st = lst;
    }
    prefix.push_back(p.filename().string());
    if (S_ISREG(st.st_mode)) {
      entry e;
      e.parts = prefix;
      e.full = p;
      e.st = st;
      out.push_back(std::move(e));
    } else if (S_ISDIR(st.st_mode) && !is_link) {
      walk(p, prefix, out);
    }
    prefix.pop_back();
  }
}

// A change detector over the stat listing, not a content hash: FNV-1a is enough and cheap.
std::string listing_digest(const std::vector<entry>& files) {
  fnv1a h;
  for (auto& e : files) {
    std::int64_t fields[3] = {static_cast<std::int64_t>(e.st.st_size), mtime_ns(e.st), static_cast<std::int64_t>(e.st.st_ino)};
    h.update(e.rel.data(), e.rel.size() + 1);  // with its terminating NUL as a separator
    h.update(fields, sizeof fields);
  }
  return h.hex();
}

}  // namespace

void content_hasher::feed_file(const fs::path& p, sha256& h) const {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) io_error("cannot open file", p);
  if (stats_) stats_->files_opened.fetch_add(1, std::memory_order_relaxed);
  static constexpr std::size_t chunk = 256 * 1024;
  thread_local std::vector<char> buf(chunk);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      errno = saved;
      io_error("cannot read file", p);
    }
    if (n == 0) break;
    h.update(buf.data(), static_cast<std::size_t>(n));
    if (stats_) stats_->bytes_read.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
  }
  ::close(fd);
}

std::optional<std::string> content_hasher::hash(const fs::path& p) const {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    io_error("cannot stat", p);
  }
  std::string key = p.string();
  std::vector<entry> files;
  std::string digest;
  if (S_ISREG(st.st_mode)) {
    digest = "file:" + std::to_string(st.st_size) + ':' + std::to_string(mtime_ns(st)) + ':' +
             std::to_string(st.st_ino);
  } else if (S_ISDIR(st.st_mode)) {
    std::vector<std::string> prefix;
    walk(p, prefix, files);
    // Component-wise order, each component by its bytes (UTF-8 byte order is code point order).
    std::sort(files.begin(), files.end(), [](const entry& a, const entry& b) { return a.parts < b.parts; });
    for (auto& e : files) {
      for (std::size_t i = 0; i < e.parts.size(); ++i) e.rel += (i ? "/" : "") + e.parts[i];
    }
    digest = "dir:" + listing_digest(files);
  } else {
    return std::nullopt;
  }

  if (cache_) {
    if (auto sha = cache_->reuse(key, digest)) {
      if (stats_) stats_->reused.fetch_add(1, std::memory_order_relaxed);
      return sha;
    }
  }

  sha256 h;
  if (S_ISREG(st.st_mode)) {
    feed_file(p, h);
  } else {
    for (auto& e : files) {
      h.update(e.rel);
      feed_file(e.full, h);
    }
  }
  std::string result = h.hex_digest();
  // Racy timestamps (as in git): a file written within the clock's coarse tick of now could be
  // rewritten with the same size and mtime, so such a tree is hashed again next time.
  std::int64_t newest = mtime_ns(st);
  for (auto& e : files) newest = std::max(newest, mtime_ns(e.st));
  std::int64_t now_ns = now_micros() * 1000;
  bool racy = now_ns - newest < racy_window_ns;
  if (cache_ && !racy) {
    db::fingerprint_row row;
    row.path = key;
    row.size = S_ISREG(st.st_mode) ? st.st_size : static_cast<std::int64_t>(files.size());
    row.mtime_ns = mtime_ns(st);
    row.inode = static_cast<std::int64_t>(st.st_ino);
    row.sha256 = result;
    row.listing_digest = digest;
    row.seen_at = now_micros();
    cache_->put(std::move(row));
  }
  return result;
}

}  // namespace projcache::cache
