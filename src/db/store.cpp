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
  c.set_mmap_size(whole_file_map_bytes);
  return check_store(c, full);
}

std::string check_store(connection& c, bool full) {
  auto st = c.prepare(full ? "PRAGMA integrity_check" : "PRAGMA quick_check");
  std::string out;
  while (st.step()) {
    if (!out.empty()) out += '\n';
    out += st.text(0);
  }
  return out;
}

std::optional<std::string> header_problem(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char header[16] = {};
  in.read(header, sizeof header);
  auto n = in.gcount();
  if (n == 0) return std::nullopt;  // an empty (or absent) file is a fresh database to SQLite
  if (n < 16 || std::string_view(header, 16) != std::string_view("SQLite format 3\0", 16))
    return "not a SQLite database";
  return std::nullopt;
}

namespace {
template <class Check>
std::optional<std::string> problem_of(Check check) {
  try {
    auto report = check();
    if (report != "ok") return "integrity check failed: " + report.substr(0, 200);
  } catch (const db_error& e) {
    if (is_corruption(e)) return e.what();
    throw;
  }
  return std::nullopt;
}
}  // namespace

std::optional<std::string> integrity_problem(const fs::path& path) {
  return problem_of([&] { return check_store(path, false); });
}

std::optional<std::string> integrity_problem(connection& c) {
  return problem_of([&] { return check_store(c, false); });
}

bool is_corruption(const db_error& e) {
  int primary = e.sqlite_code() & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

std::string move_aside(const fs::path& path, const std::string& why) {
  std::string stamp = format_api_time(now_micros());
  for (char& ch : stamp)
    if (ch == ':') ch = '-';
  fs::path aside = path.string() + ".corrupt-" + stamp;
  std::error_code ec;
  fs::rename(path, aside, ec);
  if (ec) throw std::runtime_error("cannot move corrupt database aside: " + ec.message());
  for (const char* suffix : {"-wal", "-shm"}) {
    fs::path side = path.string() + suffix;
    if (fs::exists(side, ec)) fs::rename(side, aside.string() + suffix, ec);
  }
  BOOST_LOG_TRIVIAL(warning) << "database " << path.string() << " is corrupt (" << why << "); moved aside to "
                             << aside.string() << " and rebuilding from disk";
  return aside.string();
}

open_report prepare_store(const fs::path& path, integrity_check check) {
  open_report report;
  std::error_code ec;
  if (path.has_parent_path()) {
    fs::create_directories(path.parent_path(), ec);
    if (ec)
      throw std::runtime_error("cannot create database directory " +
                               path.parent_path().string() + ": " + ec.message());
  }
  auto why = header_problem(path);
  if (!why && check == integrity_check::now && fs::exists(path, ec)) why = integrity_problem(path);
  if (!why) {
    try {
      connection c(path.string());
      report.migrations_applied = migrator(c).up();
      return report;
    } catch (const db_error& e) {
      if (!is_corruption(e)) throw;
      why = e.what();
    }
  }
  report.moved_aside = move_aside(path, *why);
  report.reason = *why;
  connection c(path.string());
  report.migrations_applied = migrator(c).up();
  return report;
}

}  // namespace projcache::db
