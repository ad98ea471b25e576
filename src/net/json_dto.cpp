#include "net/json_dto.hpp"

#include <boost/json.hpp>

namespace json = boost::json;

namespace projcache::net {
json::value opt_json(const std::optional<std::string>& s) { return s ? json::value(*s) : json::value(nullptr); }
json::value opt_json(const shared_text& s) { return s ? json::value(*s) : json::value(nullptr); }
}  // namespace projcache::net

namespace projcache::db {
using net::opt_json;

// Boost.JSON conversions, found by argument-dependent lookup.
void tag_invoke(json::value_from_tag, json::value& v, const artifact_row& a) {
  auto opt = [](const auto& s) { return opt_json(s); };
  v = json::object{
      {"id", a.id},
      {"name", *a.name},
      {"type", *a.type},
      {"project_id", *a.project_id},
      {"deployed_version", opt(a.deployed_version)},
      {"upstream_version", opt(a.upstream_version)},
      {"is_outdated", a.is_outdated},
      {"local_modified", a.local_modified},
      {"drift", *a.drift},
      {"source", opt(a.source)},
      {"profile_root", *a.profile_root},
      {"deployed_hash", opt(a.deployed_hash)},
      {"local_hash", opt(a.local_hash)},
      {"collection_hash", opt(a.collection_hash)},
      {"updated_at", format_api_time(a.updated_at)},
  };
}

void tag_invoke(json::value_from_tag, json::value& v, const marketplace_row& m) {
  json::value data = nullptr;
  if (m.data) {
    boost::system::error_code ec;
    data = json::parse(*m.data, ec);
    if (ec) data = nullptr;
  }
  v = json::object{{"id", m.id},
                   {"name", m.name},
                   {"type", m.type},
                   {"url", m.url},
                   {"description", opt_json(m.description)},
                   {"cached_at", format_api_time(m.cached_at)},
                   {"data", std::move(data)}};
}
}  // namespace projcache::db

namespace projcache::cache {
void tag_invoke(json::value_from_tag, json::value& v, const refresh_result& r) {
  json::array errors;
  for (auto& e : r.errors) errors.emplace_back(e);
  std::string message = "Refresh completed successfully";
  if (!r.success) {
    message = "Refresh completed with errors: ";
    for (std::size_t i = 0; i < r.errors.size(); ++i) message += (i ? "; " : "") + r.errors[i];
  }
  v = json::object{{"success", r.success},
                   {"projects_refreshed", r.projects_refreshed},
                   {"changes_detected", r.changes_detected},
                   {"errors", std::move(errors)},
                   {"duration_seconds", r.duration_seconds},
                   {"message", message}};
}
}  // namespace projcache::cache

namespace projcache::net {

json::value time_or_null(const std::optional<micros>& t) {
  return t ? json::value(format_api_time(*t)) : json::value(nullptr);
}

json::value artifact_json(const db::artifact_row& a) { return json::value_from(a); }

json::value project_item_json(const cache::project_entry& p) {
  json::object drift;
  for (std::size_t i = 0; i < cache::drift_names.size(); ++i) drift[cache::drift_names[i]] = p.drift_counts[i];
  return json::object{
      {"id", p.row.id},
      {"name", p.row.name},
      {"path", p.row.path},
      {"status", p.row.status},
      {"last_fetched", time_or_null(p.row.last_fetched)},
      {"artifact_count", p.artifacts.size()},
      {"description", opt_json(p.row.description)},
      {"error_message", opt_json(p.row.error_message)},
      {"outdated_count", p.outdated},
      {"drift_counts", std::move(drift)},
  };
}

json::value project_detail_json(const cache::project_entry& p) {
  auto v = project_item_json(p);
  json::array items;
  items.reserve(p.artifacts.size());
  for (auto& a : p.artifacts) items.push_back(json::value_from(*a));
  v.as_object()["created_at"] = format_api_time(p.row.created_at);
  v.as_object()["updated_at"] = format_api_time(p.row.updated_at);
  v.as_object()["artifacts"] = std::move(items);
  return v;
}

json::value stale_item_json(const cache::stale_item& s) {
  const auto& a = *s.artifact;
  auto opt = [](const auto& s) { return opt_json(s); };
  return json::object{{"id", a.id},
                      {"name", *a.name},
                      {"type", *a.type},
                      {"project_name", s.project_name},
                      {"project_id", *a.project_id},
                      {"deployed_version", opt(a.deployed_version)},
                      {"upstream_version", opt(a.upstream_version)},
                      {"version_difference", opt(s.version_difference)}};
}

json::value search_item_json(const cache::search_item& s) {
  const auto& a = *s.artifact;
  return json::object{{"id", a.id},           {"name", *a.name},
                      {"type", *a.type},       {"project_id", *a.project_id},
                      {"project_name", s.project_name}, {"score", s.score}};
}

json::value marketplace_json(const db::marketplace_row& m) { return json::value_from(m); }

json::value refresh_result_json(const cache::refresh_result& r) { return json::value_from(r); }

}  // namespace projcache::net
