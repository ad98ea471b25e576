#include "db/repository.hpp"

#include <sqlite3.h>

namespace projcache::db {

namespace {
constexpr const char* project_cols =
    "id, name, path, description, created_at, updated_at, last_fetched, status, error_message";

std::optional<micros> opt_time(statement& st, int col) {
  auto t = st.opt_text(col);
  return t ? parse_time(*t) : std::nullopt;
}

project_row read_project(statement& st) {
  project_row p;
  p.id = st.text(0);
  p.name = st.text(1);
  p.path = st.text(2);
  p.description = st.opt_text(3);
  p.created_at = opt_time(st, 4).value_or(0);
  p.updated_at = opt_time(st, 5).value_or(0);
  p.last_fetched = opt_time(st, 6);
  p.status = st.opt_text(7).value_or("active");
  p.error_message = st.opt_text(8);
  return p;
}

std::optional<std::string> db_time(const std::optional<micros>& t) {
  return t ? std::optional(format_db_time(*t)) : std::nullopt;
}
}  // namespace

result<void> expected_write_failure(const db_error& e) {
  if ((e.sqlite_code() & 0xff) == SQLITE_CONSTRAINT) return make_error_code(errc::constraint);
  throw e;
}

result<void> repository::create_project(const project_row& p) {
  try {
    c_.prepare_cached(
          "INSERT INTO projects(id, name, path, description, created_at, updated_at, "
          "last_fetched, status, error_message) VALUES (?,?,?,?,?,?,?,?,?)")
        ->bind_all(p.id, p.name, p.path, p.description, format_db_time(p.created_at),
                   format_db_time(p.updated_at), db_time(p.last_fetched), p.status,
                   p.error_message)
        .run();
  } catch (const db_error& e) {
    return expected_write_failure(e);
  }
  return {};
}

void repository::upsert_project(const project_row& p) {
  c_.prepare_cached(
        "INSERT INTO projects(id, name, path, description, created_at, updated_at, last_fetched, "
        "status, error_message) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
        "name=excluded.name, path=excluded.path, description=excluded.description, "
        "updated_at=excluded.updated_at, last_fetched=excluded.last_fetched, "
        "status=excluded.status, error_message=excluded.error_message")
      ->bind_all(p.id, p.name, p.path, p.description, format_db_time(p.created_at),
                 format_db_time(p.updated_at), db_time(p.last_fetched), p.status, p.error_message)
      .run();
}

std::vector<project_row> repository::all_projects() {
  std::vector<project_row> out;
  auto st = c_.prepare_cached(std::string("SELECT ") + project_cols + " FROM projects ORDER BY lower(name), id");
  while (st->step()) out.push_back(read_project(*st));
  return out;
}

result<void> repository::delete_project(const std::string& id) {
  c_.prepare_cached("DELETE FROM projects WHERE id = ?")->bind_all(id).run();
  if (c_.changes() == 0) return make_error_code(errc::not_found);
  return {};
}

std::vector<project_row> repository::stale_projects(micros now, std::int64_t ttl_minutes) {
  auto cutoff = format_db_time(now - ttl_minutes * 60 * 1000000);
  auto st = c_.prepare_cached(std::string("SELECT ") + project_cols +
                              " FROM projects WHERE last_fetched IS NULL OR last_fetched < ? "
                              "ORDER BY lower(name), id");
  st->bind_all(cutoff);
  std::vector<project_row> out;
  while (st->step()) out.push_back(read_project(*st));
  return out;
}

std::int64_t repository::invalidate(const std::optional<std::string>& id) {
  auto now = format_db_time(now_micros());
  if (id) {
    c_.prepare_cached("UPDATE projects SET last_fetched=NULL, status='stale', updated_at=? WHERE id=?")
        ->bind_all(now, *id)
        .run();
  } else {
    c_.prepare_cached("UPDATE projects SET last_fetched=NULL, status='stale', updated_at=?")
        ->bind_all(now)
        .run();
  }
  return c_.changes();
}

void repository::touch_projects(const std::vector<std::pair<std::string, micros>>& fetched) {
  auto st = c_.prepare_cached("UPDATE projects SET last_fetched = ? WHERE id = ?");
  for (auto& [id, t] : fetched) {
    st->bind_all(format_db_time(t), id).run();
    st->reset();
  }
}

void repository::clear_all() {
  c_.exec("DELETE FROM projects; DELETE FROM file_fingerprints;");
}

std::vector<std::string> repository::registered_projects() {
  std::vector<std::string> out;
  auto st = c_.prepare_cached("SELECT path FROM registered_projects ORDER BY path");
  while (st->step()) out.push_back(st->text(0));
  return out;
}

bool repository::add_registered_project(const std::string& path) {
  c_.prepare_cached("INSERT INTO registered_projects(path, registered_at) VALUES (?, ?) ON CONFLICT(path) DO NOTHING")
      ->bind_all(path, format_db_time(now_micros()))
      .run();
  return c_.changes() > 0;
}

bool repository::remove_registered_project(const std::string& path) {
  c_.prepare_cached("DELETE FROM registered_projects WHERE path = ?")->bind_all(path).run();
  return c_.changes() > 0;
}

std::optional<std::string> repository::get_meta(const std::string& key) {
  auto st = c_.prepare_cached("SELECT value FROM cache_metadata WHERE key = ?");
  st->bind_all(key);
  if (!st->step()) return std::nullopt;
  return st->text(0);
}

void repository::set_meta(const std::string& key, const std::string& value) {
  c_.prepare_cached(
        "INSERT INTO cache_metadata(key, value, updated_at) VALUES (?,?,?) ON CONFLICT(key) DO "
        "UPDATE SET value=excluded.value, updated_at=excluded.updated_at")
      ->bind_all(key, value, format_db_time(now_micros()))
      .run();
}

}  // namespace projcache::db
