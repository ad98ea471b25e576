#pragma once
// RAII wrapper of a prepared SQLite statement. bind() is 1-based like SQLite; columns 0-based.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/shared_text.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace projcache::db {

class statement {
 public:
  statement(sqlite3* db, std::string_view sql);
  ~statement();
  statement(statement&& o) noexcept;
  statement& operator=(statement&&) = delete;
  statement(const statement&) = delete;

  // Binds one value: an integer, bool, double, text, shared_text, nullopt or an optional of one.
  template <class T>
  statement& bind(int idx, const T& v) {
    put(idx, v);
    return *this;
  }
  template <class... Args>
  statement& bind_all(const Args&... args) {
    int i = 0;
    (put(++i, args), ...);
    return *this;
  }

  // true while a row is available; throws db_error on failure (constraint errors included:
  // the repository turns the ones it expects into error codes).
  bool step();
  // Runs to completion, ignoring rows.
  void run();
  void reset();

  bool is_null(int col) const;
  std::int64_t int64(int col) const;
  double real(int col) const;
  std::string text(int col) const;
  // The column's text where SQLite holds it: valid until the next step or reset.
  std::string_view view(int col) const;
  std::optional<std::string> opt_text(int col) const;
  std::optional<std::int64_t> opt_int64(int col) const;
  // A nullable text column, interned (no temporary copy).
  shared_text shared(int col) const;

  const std::string& sql() const { return sql_; }

 private:
  void put(int idx, std::int64_t v);
  void put(int idx, int v) { put(idx, static_cast<std::int64_t>(v)); }
  void put(int idx, bool v) { put(idx, static_cast<std::int64_t>(v ? 1 : 0)); }
  void put(int idx, double v);
  void put(int idx, std::string_view v);
  void put(int idx, const std::string& v) { put(idx, std::string_view(v)); }
  void put(int idx, const char* v) { put(idx, std::string_view(v)); }
  void put(int idx, std::nullopt_t);
  void put(int idx, const shared_text& v) { v ? put(idx, std::string_view(*v)) : put(idx, std::nullopt); }
  template <class T>
  void put(int idx, const std::optional<T>& v) {
    v ? put(idx, *v) : put(idx, std::nullopt);
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

}  // namespace projcache::db
