#include "cache/content_hash.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string_view>
#include <stdexcept>

#include "cache/stat_stamp.hpp"
#include "common/fnv.hpp"
#include "common/sha256.hpp"
#include "platform/dir_listing.hpp"

namespace fs = std::filesystem;

namespace projcache::cache {

namespace {
// 64 bits of the text (libstdc++'s is MurmurHash64A: fast, and well spread).
std::uint64_t hash64_of(const std::string& text) { return std::hash<std::string_view>{}(text); }
}  // namespace

std::optional<fingerprint_cache::entry> fingerprint_cache::pack(const db::fingerprint_row& row) {
  entry e;
  if (!from_hex(row.sha256, e.sha)) return std::nullopt;  // not ours: hashed again, then replaced
  e.digest_hash = hash64_of(row.listing_digest);
  return e;
}

void fingerprint_cache::load_one(db::fingerprint_row&& row) {
  auto e = pack(row);
  if (!e) return;
  auto key = hash64_of(row.path);
  auto& sh = shard_of(key);
  std::lock_guard lk(sh.mu);
  sh.rows.insert_or_assign(key, *e);
}

std::optional<std::string> fingerprint_cache::reuse(const std::string& path, const std::string& digest) const {
  auto key = hash64_of(path), want = hash64_of(digest);
  sha256_bytes sha;
  {
    auto& sh = shard_of(key);
    std::lock_guard lk(sh.mu);
    auto it = sh.rows.find(key);
    if (it == sh.rows.end() || it->second.digest_hash != want) return std::nullopt;
    sha = it->second.sha;
  }
  return to_hex(sha);  // allocates: outside the lock
}

void fingerprint_cache::put(db::fingerprint_row row) {
  auto e = pack(row);
  if (!e) return;
  auto key = hash64_of(row.path);
  {
    auto& sh = shard_of(key);
    std::lock_guard lk(sh.mu);
    sh.rows.insert_or_assign(key, *e);
  }
  auto path = row.path;
  std::lock_guard lk(dirty_mu_);
  dirty_.insert_or_assign(std::move(path), std::move(row));
}

std::vector<db::fingerprint_row> fingerprint_cache::take_dirty() {
  std::lock_guard lk(dirty_mu_);
  std::vector<db::fingerprint_row> out;
  out.reserve(dirty_.size());
  for (auto& [path, row] : dirty_) out.push_back(std::move(row));
  dirty_.clear();
  return out;
}

void fingerprint_cache::restore_dirty(std::vector<db::fingerprint_row> rows) {
  std::lock_guard lk(dirty_mu_);
  for (auto& row : rows) {
    auto path = row.path;
    dirty_.try_emplace(std::move(path), std::move(row));
  }
}

bool fingerprint_cache::pending(const std::string& path) const {
  std::lock_guard lk(dirty_mu_);
  return dirty_.count(path) > 0;
}

std::size_t fingerprint_cache::size() const {
  std::size_t n = 0;
  for (auto& sh : shards_) {
    std::lock_guard lk(sh.mu);
    n += sh.rows.size();
  }
  return n;
}

void fingerprint_cache::clear() {
  for (auto& sh : shards_) {
    std::lock_guard lk(sh.mu);
    sh.rows.clear();
  }
  std::lock_guard lk(dirty_mu_);
  dirty_.clear();
}

// Rows and dirty rows are locked apart: a put racing an erase of the same path can leave one
// without the other, which costs at most one hash taken again, never a wrong reuse.
void fingerprint_cache::erase(const std::vector<std::string>& paths) {
  for (auto& p : paths) {
    auto key = hash64_of(p);
    auto& sh = shard_of(key);
    std::lock_guard lk(sh.mu);
    sh.rows.erase(key);
  }
  std::lock_guard lk(dirty_mu_);
  for (auto& p : paths) dirty_.erase(p);
}

void fingerprint_cache::touch(const std::vector<std::string>& paths, micros seen_at) {
  std::lock_guard lk(dirty_mu_);
  for (auto& p : paths)
    if (auto it = dirty_.find(p); it != dirty_.end()) it->second.seen_at = seen_at;
}

namespace {

struct entry {
  std::string rel;  // path relative to the folder, components joined with '/'
  struct stat st;
};

[[noreturn]] void io_error(const std::string& what, const fs::path& p, int err) {
  throw fs::filesystem_error(what, p, std::error_code(err, std::generic_category()));
}
[[noreturn]] void io_error(const std::string& what, const fs::path& p) { io_error(what, p, errno); }

std::string not_a_file(const fs::path& p, const struct stat& st) {
  const char* kind = S_ISFIFO(st.st_mode)  ? "a FIFO"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                                            : "not a regular file";
  return p.string() + " is " + kind + ", not a file or folder: remove it, or put the artifact there";
}

// Every regular file below the open folder `dirfd` (symlinks to files followed, symlinked
// folders not entered), like Python's Path.rglob("*") + is_file(). Depth first with each
// folder's names in byte order, which is SkillMeat's component-wise order, so the list needs
// no sort. Names are resolved against the folder's descriptor (fstatat/openat): a warm scan
// stats every file, and a whole-path lookup for each was a third of its time. Takes dirfd.
void walk(int dirfd, const fs::path& root, std::string& rel, std::vector<entry>& out) {
  // Closes dirfd on every way out.
  struct fd_closer {
    int fd;
    ~fd_closer() { ::close(fd); }
  } closer{dirfd};
  std::vector<platform::dir_entry> items;
  if (int err = platform::list_directory(dirfd, items)) io_error("cannot list folder", rel.empty() ? root : root / rel, err);
  for (auto& it : items) {
    const char* name = it.name.c_str();
    struct stat st;
    using platform::entry_type;
    bool is_link = it.type == entry_type::symlink;
    if (it.type == entry_type::directory) {
      st.st_mode = S_IFDIR;  // folders are entered, never listed: no stat needed
    } else if (it.type == entry_type::file) {
      if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // vanished meanwhile
    } else if (is_link) {
      if (::fstatat(dirfd, name, &st, 0) != 0) continue;  // dangling link: not a file
    } else if (it.type == entry_type::unknown) {  // file systems without d_type
      if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      is_link = S_ISLNK(st.st_mode);
      if (is_link && ::fstatat(dirfd, name, &st, 0) != 0) continue;
    } else {
      continue;  // sockets, fifos, devices: not files
    }
    std::size_t len = rel.size();
    if (len) rel += '/';
    rel += it.name;
    if (S_ISREG(st.st_mode)) {
      out.push_back({rel, st});
    } else if (S_ISDIR(st.st_mode) && !is_link) {
      int sub = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) {
        walk(sub, root, rel, out);
      } else if (int err = errno; err != ENOENT && err != ENOTDIR) {
        io_error("cannot list folder", root / rel, err);
      }
    }
    rel.resize(len);
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

void content_hasher::feed_file(const fs::path& p, sha256& h, cancel_token cancel) const {
  // O_NONBLOCK: had the file become a FIFO since it was listed, a plain open would wait for a
  // writer forever. What is opened is checked before a byte is read.
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) io_error("cannot open file", p);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    io_error("cannot stat", p, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw unreadable_input(not_a_file(p, st));
  }
  if (stats_) stats_->files_opened.fetch_add(1, std::memory_order_relaxed);
  static constexpr std::size_t chunk = 256 * 1024;
  thread_local std::vector<char> buf(chunk);
  for (;;) {
    if (cancel.requested()) {
      ::close(fd);
      throw scan_cancelled();
    }
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

std::optional<std::string> content_hasher::hash(const fs::path& p, cancel_token cancel) const {
  // A skill is a folder, a command or agent a file ("pm.md"). A folder is opened first (one
  // path lookup, and fstat is free); a name with an extension is stat'ed first. A guess that
  // is wrong costs one more system call, never a wrong answer. O_DIRECTORY fails at once on
  // anything that is not a folder, fifos included.
  struct stat st;
  int dirfd = -1;
  auto stat_path = [&]() -> bool {
    if (::stat(p.c_str(), &st) == 0) return true;
    // A symlink loop where the artifact should be is no artifact there: missing.
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return false;
    io_error("cannot stat", p);
  };
  auto open_dir = [&]() -> bool {
    dirfd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return false;
      io_error("cannot list folder", p);
    }
    if (::fstat(dirfd, &st) != 0) {
      int err = errno;
      ::close(dirfd);
      io_error("cannot stat", p, err);
    }
    return true;
  };
  if (p.has_extension()) {
    if (!stat_path()) return std::nullopt;
    if (S_ISDIR(st.st_mode) && !open_dir()) return std::nullopt;
  } else if (!open_dir()) {
    if (errno == ENOENT || !stat_path()) return std::nullopt;
  }
  std::string key = p.string();
  std::vector<entry> files;
  std::string digest;
  if (dirfd >= 0) {
    std::string rel;
    walk(dirfd, p, rel, files);  // closes dirfd; component-wise order, each component by its bytes
    digest = "dir:" + listing_digest(files);
  } else if (S_ISREG(st.st_mode)) {
    digest = "file:" + stat_stamp(st);
  } else {
    throw unreadable_input(not_a_file(p, st));  // never opened
  }

  if (cache_) {
    if (auto sha = cache_->reuse(key, digest)) {
      if (stats_) stats_->reused.fetch_add(1, std::memory_order_relaxed);
      return sha;
    }
  }

  sha256 h;
  if (S_ISREG(st.st_mode)) {
    feed_file(p, h, cancel);
  } else {
    for (auto& e : files) {
      h.update(e.rel);
      feed_file(p / e.rel, h, cancel);
    }
  }
  std::string result = h.hex_digest();
  // A tree with a racy file is hashed again next time (stat_stamp.hpp).
  std::int64_t newest = mtime_ns(st);
  for (auto& e : files) newest = std::max(newest, mtime_ns(e.st));
  if (cache_ && !is_racy(newest)) {
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
