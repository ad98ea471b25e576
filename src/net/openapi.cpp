#include "net/openapi.hpp"

#include <map>
#include <optional>
#include <string>

#include "common/ascii.hpp"
#include "net/openapi_internal.hpp"
#include "net/router.hpp"

namespace json = boost::json;

namespace projcache::net {

namespace {
using namespace openapi;

struct param {
  const char* name;
  json::value schema;
  bool required = false;
  json::value example = nullptr;
  const char* in = "query";
};

struct reply {
  int status;
  const char* schema;  // a components/schemas name, or nullptr for a text body
  const char* description;
  const char* content_type = "application/json";
};

struct operation {
  const char* tag;
  const char* summary;
  std::vector<param> params;
  std::vector<reply> replies;
  const char* body = nullptr;  // request body schema name
  json::value body_example = nullptr;
  bool hidden = false;  // test-only routes stay out of the document
};

json::value bounded(std::int64_t def, std::int64_t min, std::optional<std::int64_t> max = std::nullopt) {
  json::object o{{"type", "integer"}, {"default", def}, {"minimum", min}};
  if (max) o["maximum"] = *max;
  return o;
}
param skip() { return {"skip", bounded(0, 0)}; }
param limit(std::int64_t def, std::int64_t max) { return {"limit", bounded(def, 1, max)}; }
param text(const char* name, bool required = false, json::value example = nullptr) {
  return {name, type("string"), required, std::move(example)};
}
param path_id() { return {"id", type("string"), true, nullptr, "path"}; }

const reply invalid{422, "ValidationError", "a parameter or the body is not valid"};
const reply unknown_project{404, "Error", "no such project"};
const reply store_refuses{503, "Error", "the database refuses writes (a full disk, say)"};

using operation_map = std::map<std::string, operation>;

// The cache's reads.
operation_map cache_reads() {
  return {
      {"GET /api/v1/cache/status", {"cache", "What the cache holds, the refresh schedule and the watcher", {},
                                    {{200, "Status", "the status"}}}},
      {"GET /api/v1/cache/projects",
       {"cache", "Cached projects, by name", {{"status", one_of_strings({"active", "stale", "error"})}, skip(), limit(100, 500)},
        {{200, "ProjectPage", "a page of projects"}, invalid}}},
      {"GET /api/v1/cache/projects/{id}",
       {"cache", "One project with its artifacts (the id is the rest of the path, raw or percent-encoded)", {path_id()},
        {{200, "ProjectDetail", "the project"}, unknown_project}}},
      {"GET /api/v1/cache/artifacts",
       {"cache", "Cached artifacts, by name",
        {text("project_id"), text("type"), {"is_outdated", type("boolean")}, skip(), limit(100, 500)},
        {{200, "ArtifactPage", "a page of artifacts"}, invalid}}},
      {"GET /api/v1/cache/stale-artifacts",
       {"cache", "Artifacts with a newer upstream version",
        {text("type"), text("project_id"), {"sort_by", one_of_strings({"name", "type", "project", "version_diff"})},
         {"sort_order", one_of_strings({"asc", "desc"})}, skip(), limit(100, 500)},
        {{200, "StalePage", "the outdated artifacts"}, {400, "Error", "an unknown sort_by"}, invalid}}},
      {"GET /api/v1/cache/search",
       {"cache", "Artifacts whose name contains the query (score 100 exact, 80 prefix, 60 contains)",
        {{"query", json::object{{"type", "string"}, {"minLength", 1}}, true, "lint"}, text("project_id"), text("type"),
         skip(), limit(50, 200), {"sort_by", one_of_strings({"relevance", "name", "type", "updated"})}},
        {{200, "SearchPage", "the matches"}, {400, "Error", "an unknown sort_by"}, invalid}}},
  };
}

// The cache's writes, the marketplace and the configuration.
operation_map cache_writes() {
  return {
      {"POST /api/v1/cache/refresh",
       {"cache", "Refresh everything, or one project, and wait for it", {},
        {{200, "RefreshResult", "what the refresh did"}, unknown_project, invalid}, "RefreshRequest",
        json::object{{"project_id", nullptr}, {"force", false}}}},
      {"POST /api/v1/cache/invalidate",
       {"cache", "Mark everything, or one project, stale", {},
        {{200, "InvalidateResult", "how many were marked"}, unknown_project, invalid}, "InvalidateRequest",
        json::object{{"project_id", nullptr}}}},
      {"GET /api/v1/cache/marketplace",
       {"cache", "Cached marketplace listings", {text("type"), skip(), limit(100, 500)},
        {{200, "MarketplacePage", "a page of listings"}, invalid}}},
      {"POST /api/v1/cache/vacuum",
       {"cache", "Compact the database now (VACUUM and ANALYZE)", {},
        {{200, "VacuumResult", "the sizes before and after"}, store_refuses}}},
      {"GET /api/v1/cache/config",
       {"cache", "Where this server looks: home, database, search roots (and whether each exists)", {},
        {{200, "Config", "the configuration in use"}}}},
  };
}

// Registered projects and SkillMeat's own project-cache routes.
operation_map project_routes() {
  return {
      {"POST /api/v1/cache/projects",
       {"projects", "Register a project path (kept across restarts)", {},
        {{201, "ProjectDetail", "registered and refreshed"},
         {200, "ProjectDetail", "already registered"},
         {404, "Error", "no deployment file under the path"},
         invalid,
         store_refuses},
        "RegisterRequest", json::object{{"path", "/no/such/project"}}}},
      {"DELETE /api/v1/cache/projects/{id}",
       {"projects", "Forget a project registered through POST /api/v1/cache/projects", {path_id()},
        {{200, "ForgetResult", "forgotten"},
         {404, "Error", "not registered that way"},
         {409, "Error", "configured in config.toml or the environment"},
         store_refuses}}},
      {"GET /api/v1/projects/cache/stats",
       {"projects", "SkillMeat's project cache statistics", {}, {{200, "CacheStats", "the statistics"}}}},
      {"POST /api/v1/projects/cache/refresh",
       {"projects", "SkillMeat's refresh (the body is optional)", {},
        {{200, "ProjectCacheRefreshResult", "refreshed"}, invalid}, "ProjectCacheRefreshRequest", json::object{}}},
      {"POST /api/v1/projects/cache/clear",
       {"projects", "Empty the cache and find every project again", {},
        {{200, "ClearResult", "cleared and rediscovered"}, store_refuses}}},
  };
}

// The server, the events and the dashboard.
operation_map server_routes() {
  return {
      {"GET /healthz", {"server", "The process answers", {}, {{200, "Health", "alive"}}}},
      {"GET /readyz",
       {"server", "The first full refresh is done", {},
        {{200, "Health", "ready"}, {503, "Health", "still starting"}}}},
      {"GET /metrics",
       {"server", "Prometheus metrics", {},
        {{200, nullptr, "the metrics", "text/plain; version=0.0.4; charset=utf-8"}}}},
      {"GET /api/v1/cache/events",
       {"events",
        "Live events over WebSocket: upgrade, then send {\"op\":\"subscribe\",\"types\":[...],\"project_ids\":[...],"
        "\"since\":seq,\"epoch\":...}; the API key may come as the subprotocol apikey.<key>",
        {}, {{101, nullptr, "switching to WebSocket", "text/plain"}, {426, "Error", "not a WebSocket upgrade"}}}},
      {"GET /", {"dashboard", "The dashboard", {}, {{200, nullptr, "the page", "text/html; charset=utf-8"}}}},
      {"GET /favicon.ico", {"dashboard", "The icon", {}, {{200, nullptr, "an SVG icon", "image/svg+xml"}}}},
      {"GET /assets/{name}",
       {"dashboard", "The dashboard's files", {{"name", type("string"), true, "projcache-client.js", "path"}},
        {{200, nullptr, "the file", "text/javascript; charset=utf-8"}, {404, "Error", "no such file"}}}},
      {"GET /openapi.json",
       {"server", "This document", {}, {{200, nullptr, "OpenAPI 3.1", "application/json"}}}},
      {"POST /api/v1/bench/publish", {"server", "benchmarks only", {}, {}, nullptr, nullptr, true}},
  };
}

// One description per route of the table, keyed "VERB pattern".
const operation_map& operations() {
  static const operation_map ops = [] {
    operation_map all;
    for (auto* part : {&cache_reads, &cache_writes, &project_routes, &server_routes}) all.merge(part());
    return all;
  }();
  return ops;
}

// get_cache_projects_id from GET /api/v1/cache/projects/{id}: stable names for generated SDKs.
std::string operation_id(const std::string& verb, std::string_view pattern) {
  std::string id = ascii_lower(verb);
  std::string_view p = pattern.starts_with("/api/v1") ? pattern.substr(7) : pattern;
  std::string seg;
  auto flush = [&] {
    if (!seg.empty()) id += "_" + seg;
    seg.clear();
  };
  for (char c : p) {
    if (c == '/' || c == '-' || c == '.') flush();
    else if (c != '{' && c != '}') seg += c;
  }
  flush();
  return id == ascii_lower(verb) ? id + "_root" : id;
}

json::object content_of(const reply& r) {
  json::value schema = r.schema ? ref(r.schema) : type("string");
  if (!r.schema && std::string_view(r.content_type).starts_with("application/json")) schema = type("object");
  return json::object{{r.content_type, json::object{{"schema", std::move(schema)}}}};
}

json::object describe(const std::string& verb, std::string_view pattern, const operation& op) {
  json::object o{{"operationId", operation_id(verb, pattern)}, {"summary", op.summary}, {"tags", json::array{op.tag}}};
  json::array params;
  for (auto& p : op.params) {
    json::object po{{"name", p.name}, {"in", p.in}, {"required", p.required}, {"schema", p.schema}};
    if (!p.example.is_null()) po["example"] = p.example;
    params.push_back(std::move(po));
  }
  if (!params.empty()) o["parameters"] = std::move(params);
  if (op.body) {
    json::object media{{"schema", ref(op.body)}};
    if (!op.body_example.is_null()) media["example"] = op.body_example;
    o["requestBody"] = json::object{{"required", std::string_view(op.body) != "ProjectCacheRefreshRequest"},
                                    {"content", json::object{{"application/json", std::move(media)}}}};
  }
  json::object responses;
  for (auto& r : op.replies)
    responses[std::to_string(r.status)] = json::object{{"description", r.description}, {"content", content_of(r)}};
  responses["default"] = json::object{
      {"description", "an error: a Host or Origin refused, a missing API key, a body too large, a server busy"},
      {"content", content_of({0, "Error", ""})}};
  o["responses"] = std::move(responses);
  return o;
}
}  // namespace

json::object openapi_document(const router& routes) {
  json::object paths;
  for (auto& e : routes.table()) {
    std::string verb(http::to_string(e.verb));
    auto it = operations().find(verb + " " + std::string(e.pattern));
    if (it != operations().end() && it->second.hidden) continue;
    auto& item = paths[e.pattern];
    if (!item.is_object()) item = json::object{};
    item.as_object()[ascii_lower(verb)] =
        it == operations().end()
            ? json::object{{"operationId", operation_id(verb, e.pattern)}, {"x-undocumented", true},
                           {"responses", json::object{{"default", json::object{{"description", "undocumented"}}}}}}
            : describe(verb, e.pattern, it->second);
  }
  return json::object{
      {"openapi", "3.1.0"},
      {"info", json::object{{"title", "projcache"},
                            {"version", PROJCACHE_VERSION},
                            {"description", "A persistent, always-fresh cache of SkillMeat projects and artifacts."},
                            {"license", json::object{{"name", "MIT"}, {"identifier", "MIT"}}}}},
      {"servers", json::array{json::object{{"url", "http://127.0.0.1:8765"}}}},
      {"security", json::array{json::object{}, json::object{{"apiKey", json::array{}}}}},
      {"paths", std::move(paths)},
      {"components", json::object{{"schemas", schemas()},
                                  {"securitySchemes", json::object{{"apiKey", json::object{{"type", "apiKey"},
                                                                                            {"in", "header"},
                                                                                            {"name", "X-API-Key"}}}}}}},
  };
}

}  // namespace projcache::net
