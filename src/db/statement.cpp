#include "db/statement.hpp"

#include <sqlite3.h>

#include "db/error.hpp"

namespace projcache::db {

namespace {
[[noreturn]] void fail(sqlite3* db, int rc, const std::string& sql) {
  throw db_error(rc, std::string(sqlite3_errmsg(db)) + " (in: " + sql.substr(0, 120) + ")");
}
}  // namespace

statement::statement(sqlite3* db, std::string_view sql) : db_(db), sql_(sql) {
  int rc = sqlite3_prepare_v3(db_, sql_.data(), static_cast<int>(sql_.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(db_, rc, sql_);
}

statement::~statement() { sqlite3_finalize(stmt_); }

statement::statement(statement&& o) noexcept
    : db_(o.db_), stmt_(o.stmt_), sql_(std::move(o.sql_)) {
  o.stmt_ = nullptr;
}

void statement::put(int idx, std::int64_t v) {
  if (int rc = sqlite3_bind_int64(stmt_, idx, v); rc != SQLITE_OK) fail(db_, rc, sql_);
}
void statement::put(int idx, double v) {
  if (int rc = sqlite3_bind_double(stmt_, idx, v); rc != SQLITE_OK) fail(db_, rc, sql_);
}
void statement::put(int idx, std::string_view v) {
  int rc = sqlite3_bind_text64(stmt_, idx, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) fail(db_, rc, sql_);
}
void statement::put(int idx, std::nullopt_t) {
  if (int rc = sqlite3_bind_null(stmt_, idx); rc != SQLITE_OK) fail(db_, rc, sql_);
}

bool statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // Keep the message before reset() clears it.
  std::string msg = std::string(sqlite3_errmsg(db_)) + " (in: " + sql_.substr(0, 120) + ")";
  sqlite3_reset(stmt_);
  throw db_error(rc, msg);
}

void statement::run() {
  while (step()) {
  }
}

void statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
std::int64_t statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }
double statement::real(int col) const { return sqlite3_column_double(stmt_, col); }
std::string statement::text(int col) const {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}
std::string_view statement::view(int col) const {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string_view();
}
std::optional<std::string> statement::opt_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}
shared_text statement::shared(int col) const {
  if (is_null(col)) return std::nullopt;
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return std::string_view(p ? p : "", p ? static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)) : 0);
}
std::optional<std::int64_t> statement::opt_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}

}  // namespace projcache::db
