#include "cache/snapshot_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/log/trivial.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "common/paths.hpp"
#include "platform/file_time.hpp"

namespace fs = std::filesystem;

namespace projcache::cache {

fs::path snapshot_file_of(const fs::path& db_path) { return db_path.string() + ".snapshot"; }

namespace {
std::optional<struct stat> stat_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return std::nullopt;
  return st;
}

// git's racy-timestamp rule. File clocks tick every few milliseconds (a second on some file
// systems), so a write to the database in the tick it was last written in would keep its
// modification time. Once a file stamped now is stamped later than the database, every later
// write to the database is too: the snapshot is marked only then (and not at all when the
// clock does not move on within 100 ms).
bool stamped_after(const fs::path& file, std::int64_t db_mtime_ns) {
  for (int i = 0; i < 50; ++i) {
    auto st = stat_of(file);
    if (!st) return false;
    if (platform::mtime_ns(*st) > db_mtime_ns) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ::utimensat(AT_FDCWD, file.c_str(), nullptr, 0);  // stamped by the file clock, as writes are
  }
  return false;
}
}  // namespace

std::optional<db_identity> identity_of(const fs::path& db_path) {
  auto st = stat_of(db_path);
  if (!st) return std::nullopt;
  db_identity id;
  id.size = static_cast<std::uint64_t>(st->st_size);
  id.mtime_ns = platform::mtime_ns(*st);
  std::ifstream in(db_path, std::ios::binary);
  id.header.resize(sqlite_header_bytes);
  if (!in.read(id.header.data(), sqlite_header_bytes)) return std::nullopt;
  return id;
}

namespace {
bool wal_holds_writes(const fs::path& db_path) { return file_bytes(db_path.string() + "-wal") > 0; }

// The file mapped read-only (POSIX mmap). Read into a new buffer instead, a 9 MB file cost 28 ms
// of page faults on a VM (each page zeroed, then copied into); mapped, under 1 ms.
class mapped_file {
 public:
  explicit mapped_file(const fs::path& file) {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      mtime_ns_ = platform::mtime_ns(st);
      void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        data_ = p;
        size_ = static_cast<std::size_t>(st.st_size);
      }
    }
    ::close(fd);  // the map keeps the file (even once it is removed)
  }
  ~mapped_file() {
    if (data_) ::munmap(data_, size_);
  }
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  bool ok() const { return data_ != nullptr; }
  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }
  std::int64_t mtime_ns() const { return mtime_ns_; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
  std::int64_t mtime_ns_ = 0;
};
}  // namespace

bool keep_snapshot_file(const fs::path& db_path, const stored_rows& rows) {
  auto file = snapshot_file_of(db_path);
  if (wal_holds_writes(db_path)) {  // another program still has the database open
    BOOST_LOG_TRIVIAL(debug) << "no snapshot kept: the database's WAL was not folded at close";
    return false;
  }
  auto id = identity_of(db_path);
  if (!id) return false;
  auto bytes = encode_snapshot(*id, rows);
  fs::path tmp = file.string() + ".tmp";
  std::error_code ec;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) ec = std::make_error_code(std::errc::io_error);
    else if (!stamped_after(tmp, id->mtime_ns)) ec = std::make_error_code(std::errc::timed_out);
    else fs::rename(tmp, file, ec);
    if (ec) {
      fs::remove(tmp, ec);
      BOOST_LOG_TRIVIAL(info) << "could not keep the cache's rows in " << file.string()
                              << " (is the disk full?); the next start reads them from the database";
      return false;
    }
  }
  return true;
}

std::optional<stored_rows> take_snapshot_file(const fs::path& db_path, std::string& why) {
  auto file = snapshot_file_of(db_path);
  mapped_file bytes(file);
  if (!bytes.ok()) return std::nullopt;  // none kept (the last run did not stop cleanly, or never ran)
  std::error_code ec;
  fs::remove(file, ec);  // read once: the database changes from now on
  if (wal_holds_writes(db_path)) return why = "the database's WAL holds writes made after it", std::nullopt;
  auto id = identity_of(db_path);
  if (!id) return why = "the database file cannot be read", std::nullopt;
  // Written to after it was stamped (or in the same tick: then it cannot be told).
  if (bytes.mtime_ns() <= id->mtime_ns) return why = "the database changed after it was written", std::nullopt;
  return decode_snapshot(bytes.bytes(), *id, why);
}

}  // namespace projcache::cache
