// The bodies /openapi.json describes (components/schemas): what the handlers write, field by field.
// Every property is required unless named optional: the server writes null, it never omits a field.
#include "net/openapi_internal.hpp"

namespace json = boost::json;

namespace projcache::net::openapi {

json::value type(const char* t) { return json::object{{"type", t}}; }
json::value nullable(const char* t) { return json::object{{"type", json::array{t, "null"}}}; }
json::value ref(std::string_view name) { return json::object{{"$ref", "#/components/schemas/" + std::string(name)}}; }
json::value list_of(json::value item) { return json::object{{"type", "array"}, {"items", std::move(item)}}; }
json::value one_of_strings(std::initializer_list<const char*> values) {
  json::array e;
  for (auto* v : values) e.push_back(json::string(v));
  return json::object{{"type", "string"}, {"enum", std::move(e)}};
}

json::value record(fields props, std::initializer_list<std::string_view> optional) {
  json::object properties;
  json::array required;
  for (auto& [name, schema] : props) {
    properties[name] = schema;
    if (std::find(optional.begin(), optional.end(), name) == optional.end()) required.push_back(json::string(name));
  }
  return json::object{{"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(required)},
                      {"additionalProperties", false}};
}

namespace {
fields project_fields() {
  json::object drift;
  for (auto* d : {"synced", "outdated", "modified", "conflict", "removed", "missing"}) drift[d] = type("integer");
  json::array drift_required{"synced", "outdated", "modified", "conflict", "removed", "missing"};
  return {{"id", type("string")},
          {"name", type("string")},
          {"path", type("string")},
          {"status", one_of_strings({"active", "stale", "error"})},
          {"last_fetched", nullable("string")},
          {"artifact_count", type("integer")},
          {"description", nullable("string")},
          {"error_message", nullable("string")},
          {"outdated_count", type("integer")},
          {"drift_counts", json::object{{"type", "object"}, {"properties", drift}, {"required", drift_required},
                                        {"additionalProperties", false}}}};
}

json::value page_of(const char* item, bool with_window = true) {
  fields f{{"items", list_of(ref(item))}, {"total", type("integer")}};
  if (with_window) {
    f.emplace_back("skip", type("integer"));
    f.emplace_back("limit", type("integer"));
  }
  return record(std::move(f));
}

json::value cache_stats() {
  return record({{"entries", type("integer")},
                 {"last_scan", nullable("string")},
                 {"last_update", nullable("string")},
                 {"cache_ttl", type("number")},
                 {"is_valid", type("boolean")},
                 {"age_seconds", nullable("number")}});
}

json::value status() {
  auto backend = record({{"backend", type("string")},
                         {"watches", type("integer")},
                         {"entries", type("integer")},
                         {"ticks", type("integer")},
                         {"last_tick_ms", type("number")},
                         {"cpu_ms_total", type("number")},
                         {"interval_ms", type("integer")}},
                        {"entries", "ticks", "last_tick_ms", "cpu_ms_total", "interval_ms"});
  return record({{"total_projects", type("integer")},
                 {"total_artifacts", type("integer")},
                 {"stale_projects", type("integer")},
                 {"outdated_artifacts", type("integer")},
                 {"cache_size_bytes", type("integer")},
                 {"oldest_entry", nullable("string")},
                 {"newest_entry", nullable("string")},
                 {"last_refresh", nullable("string")},
                 {"refresh_job_status", record({{"is_running", type("boolean")},
                                                {"next_run_time", nullable("string")},
                                                {"last_run_time", nullable("string")}})},
                 {"hit_rate", nullable("number")},
                 {"hits", type("integer")},
                 {"misses", type("integer")},
                 {"watcher", record({{"running", type("boolean")},
                                     {"watches", type("integer")},
                                     {"fallback_roots", list_of(type("string"))},
                                     {"backend", type("string")},
                                     {"backends", list_of(backend)}},
                                    {"backend", "backends"})},
                 {"subscribers", type("integer")},
                 {"dropped_clients", type("integer")},
                 {"refresh_progress",
                  record({{"running", type("boolean")}, {"done", type("integer")}, {"total", type("integer")}})},
                 {"generation", type("integer")},
                 {"store", record({{"degraded", type("boolean")},
                                   {"detail", nullable("string")},
                                   {"since", nullable("string")},
                                   {"failed_writes", type("integer")}})}});
}

// What the reads answer with: rows, pages, status and errors.
json::object read_schemas() {
  auto project_detail = project_fields();
  project_detail.emplace_back("created_at", type("string"));
  project_detail.emplace_back("updated_at", type("string"));
  project_detail.emplace_back("artifacts", list_of(ref("Artifact")));
  auto validation_item = record({{"type", type("string")},
                                 {"loc", list_of(json::object{{"type", json::array{"string", "integer"}}})},
                                 {"msg", type("string")},
                                 {"input", json::object{}},
                                 {"ctx", type("object")}},
                                {"input", "ctx"});
  return json::object{
      {"Error", record({{"detail", type("string")}})},
      {"ValidationError", record({{"detail", list_of(validation_item)}})},
      {"Health", record({{"status", one_of_strings({"ok", "ready", "starting"})}})},
      {"Status", status()},
      {"Project", record(project_fields())},
      {"ProjectDetail", record(std::move(project_detail))},
      {"Artifact", record({{"id", type("string")},
                           {"name", type("string")},
                           {"type", type("string")},
                           {"project_id", type("string")},
                           {"deployed_version", nullable("string")},
                           {"upstream_version", nullable("string")},
                           {"is_outdated", type("boolean")},
                           {"local_modified", type("boolean")},
                           {"drift", one_of_strings({"synced", "outdated", "modified", "conflict", "removed", "missing"})},
                           {"source", nullable("string")},
                           {"profile_root", type("string")},
                           {"deployed_hash", nullable("string")},
                           {"local_hash", nullable("string")},
                           {"collection_hash", nullable("string")},
                           {"updated_at", type("string")}})},
      {"StaleArtifact", record({{"id", type("string")},
                                {"name", type("string")},
                                {"type", type("string")},
                                {"project_name", type("string")},
                                {"project_id", type("string")},
                                {"deployed_version", nullable("string")},
                                {"upstream_version", nullable("string")},
                                {"version_difference", nullable("string")}})},
      {"SearchItem", record({{"id", type("string")},
                             {"name", type("string")},
                             {"type", type("string")},
                             {"project_id", type("string")},
                             {"project_name", type("string")},
                             {"score", type("number")}})},
      {"MarketplaceItem", record({{"id", type("string")},
                                  {"name", type("string")},
                                  {"type", type("string")},
                                  {"url", nullable("string")},
                                  {"description", nullable("string")},
                                  {"cached_at", type("string")},
                                  {"data", json::object{}}})},
      {"ProjectPage", page_of("Project")},
      {"ArtifactPage", page_of("Artifact")},
      {"StalePage", page_of("StaleArtifact", false)},
      {"SearchPage", record({{"items", list_of(ref("SearchItem"))},
                             {"total", type("integer")},
                             {"query", type("string")},
                             {"skip", type("integer")},
                             {"limit", type("integer")}})},
      {"MarketplacePage", page_of("MarketplaceItem")},
  };
}

// What the writes take and answer with, and the configuration.
json::object write_schemas() {
  auto place = record({{"path", type("string")}, {"exists", type("boolean")}});
  return json::object{
      {"RefreshRequest", record({{"project_id", nullable("string")}, {"force", type("boolean")}}, {"project_id", "force"})},
      {"RefreshResult", record({{"success", type("boolean")},
                                {"projects_refreshed", type("integer")},
                                {"changes_detected", type("boolean")},
                                {"errors", list_of(type("string"))},
                                {"duration_seconds", type("number")},
                                {"message", type("string")}})},
      {"InvalidateRequest", record({{"project_id", nullable("string")}}, {"project_id"})},
      {"InvalidateResult", record({{"success", type("boolean")},
                                   {"invalidated_count", type("integer")},
                                   {"message", type("string")}})},
      {"RegisterRequest", record({{"path", type("string")}})},
      {"ForgetResult", record({{"success", type("boolean")},
                               {"project_id", type("string")},
                               {"removed", type("boolean")},
                               {"message", type("string")}})},
      {"CacheStats", cache_stats()},
      {"ProjectCacheRefreshRequest", record({{"project_id", nullable("string")}}, {"project_id"})},
      {"ProjectCacheRefreshResult",
       record({{"success", type("boolean")}, {"message", type("string")}, {"stats", ref("CacheStats")}})},
      {"ClearResult",
       record({{"success", type("boolean")}, {"message", type("string")}, {"projects_found", type("integer")}})},
      {"VacuumResult", record({{"success", type("boolean")},
                               {"before_bytes", type("integer")},
                               {"after_bytes", type("integer")},
                               {"duration_seconds", type("number")},
                               {"message", type("string")}})},
      {"Config", record({{"version", type("string")},
                         {"home", type("string")},
                         {"database", type("string")},
                         {"search_roots", list_of(place)},
                         {"projects", list_of(place)},
                         {"discovery_depth", type("integer")},
                         {"ttl_minutes", type("integer")}})},
  };
}

}  // namespace

json::object schemas() {
  auto all = read_schemas();
  for (auto& [name, schema] : write_schemas()) all.emplace(name, std::move(schema));
  return all;
}

}  // namespace projcache::net::openapi
