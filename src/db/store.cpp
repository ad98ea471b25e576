#include "db/store.hpp"

#include <sqlite3.h>

#include <boost/log/trivial.hpp>
#include <fstream>

#include "common/time_format.hpp"
#include "db/connection.hpp"
#include "db/error.hpp"
#include "db/migrations.hpp"

namespace fs = std::filesystem;

namespace projcache::db {

std::string check_store(const fs::path& path, bool full) {
  connection c(path.string(), connection::mode::read_write);
  auto st = c.prepare(full ? "PRAGMA integrity_check" : "PRAGMA quick_check");
  std::string out;
  while (st.step()) {
    if (!out.empty()) out += '\n';
    out += st.text(0);
  }
  return out;
}

namespace {

// Returns the reason the file is unusable, or nothing when it is a healthy database.
std::optional<std::string> corruption_of(const fs::path& path) {
  {
    std::ifstream in(path, std::ios::binary);
    char header[16] = {};
    in.read(header, sizeof header);
    auto n = in.gcount();
    if (n == 0) return std::nullopt;  // an empty file is a fresh database to SQLite
    if (n < 16 || std::string_view(header, 16) != std::string_view("SQLite format 3\0", 16))
      return "not a SQLite database";
  }
  try {
    auto report = check_store(path, false);
    if (report != "ok") return "integrity check failed: " + report.substr(0, 200);
  } catch (const db_error& e) {
    int primary = e.sqlite_code() & 0xff;
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return e.what();
    throw;
  }
  return std::nullopt;
}

}  // namespace

open_report prepare_store(const fs::path& path) {
  open_report report;
  std::error_code ec;
  if (path.has_parent_path()) {
    fs::create_directories(path.parent_path(), ec);
    if (ec)
      throw std::runtime_error("cannot create database directory " +
                               path.parent_path().string() + ": " + ec.message());
  }
  if (fs::exists(path, ec)) {
    if (auto why = corruption_of(path)) {
      std::string stamp = format_api_time(now_micros());
      for (char& ch : stamp)
        if (ch == ':') ch = '-';
      fs::path aside = path.string() + ".corrupt-" + stamp;
      fs::rename(path, aside, ec);
      if (ec) throw std::runtime_error("cannot move corrupt database aside: " + ec.message());
      for (const char* suffix : {"-wal", "-shm"}) {
        fs::path side = path.string() + suffix;
        if (fs::exists(side, ec)) fs::rename(side, aside.string() + suffix, ec);
      }
      report.moved_aside = aside.string();
      report.reason = *why;
      BOOST_LOG_TRIVIAL(warning) << "database " << path.string() << " is corrupt (" << *why
                                 << "); moved aside to " << aside.string()
                                 << " and rebuilding from disk";
    }
  }
  connection c(path.string());
  migrator m(c);
  report.migrations_applied = m.up();
  return report;
}

}  // namespace projcache::db
