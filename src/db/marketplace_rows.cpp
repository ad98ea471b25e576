// The marketplace listings as fetched, and their retention.
#include "db/marketplace_rows.hpp"

#include "common/time_format.hpp"

namespace projcache::db {

void marketplace_rows::upsert(const std::vector<marketplace_row>& rows) {
  auto st = c_.prepare_cached(
      "INSERT INTO marketplace(id, name, type, url, description, cached_at, data) VALUES "
      "(?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET name=excluded.name, type=excluded.type, "
      "url=excluded.url, description=excluded.description, cached_at=excluded.cached_at, "
      "data=excluded.data");
  for (auto& r : rows) {
    st->bind_all(r.id, r.name, r.type, r.url, r.description, format_db_time(r.cached_at), r.data)
        .run();
    st->reset();
  }
}

page_result<marketplace_row> marketplace_rows::list(const std::optional<std::string>& type, std::int64_t skip,
                                                    std::int64_t limit) {
  page_result<marketplace_row> out;
  std::string where = type ? " WHERE type = ?" : "";
  {
    auto st = c_.prepare_cached("SELECT COUNT(*) FROM marketplace" + where);
    if (type) st->bind_all(*type);
    st->step();
    out.total = st->int64(0);
  }
  auto st = c_.prepare_cached(
      "SELECT id, name, type, url, description, cached_at, data FROM marketplace" + where +
      " ORDER BY lower(name), id LIMIT ? OFFSET ?");
  int i = 0;
  if (type) st->bind(++i, *type);
  st->bind(++i, limit);
  st->bind(++i, skip);
  while (st->step()) {
    marketplace_row r{st->text(0), st->text(1), st->text(2), st->text(3), st->opt_text(4),
                      parse_time(st->text(5)).value_or(0), st->opt_text(6)};
    out.items.push_back(std::move(r));
  }
  return out;
}

std::int64_t marketplace_rows::purge_older_than(micros cutoff) {
  c_.prepare_cached("DELETE FROM marketplace WHERE cached_at < ?")
      ->bind_all(format_db_time(cutoff))
      .run();
  return c_.changes();
}

std::int64_t marketplace_rows::delete_oldest(std::int64_t n) {
  c_.prepare_cached(
        "DELETE FROM marketplace WHERE id IN (SELECT id FROM marketplace ORDER BY cached_at, id LIMIT ?)")
      ->bind_all(n)
      .run();
  return c_.changes();
}

}  // namespace projcache::db
