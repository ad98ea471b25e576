// The /api/v1/cache routes of contract section 5.
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "cache/service.hpp"
#include "events/bus.hpp"
#include "net/app_context.hpp"
#include "net/handlers.hpp"
#include "net/json_dto.hpp"
#include "net/query.hpp"
#include "net/refresh_await.hpp"
#include "net/responses.hpp"
#include "common/ascii.hpp"
#include "common/json_text.hpp"

namespace asio = boost::asio;
namespace json = boost::json;

namespace projcache::net {

namespace {
using awaitable_response = asio::awaitable<response>;
constexpr const char* prefix = "/api/v1/cache";

response not_found_project(const request& req, const std::string& id) {
  return error_response(req, http::status::not_found, "Project '" + id + "' not found");
}

// The body for these parameters (key: canonical_key) and snapshot generation: built once, then
// shared.
template <class Build>
response cached_json(request_context& c, const std::string& key, Build&& build) {
  auto generation = c.app.cache.current()->generation;
  auto hit = c.app.bodies.find(key, generation);
  if (!hit) hit = c.app.bodies.put(key, generation, to_json_text(build()));
  auto res = shared_response(c.req, http::status::ok, hit->body, "application/json");
  res.set(http::field::etag, hit->etag);
  return res;
}

template <class Page, class F>
json::array items_of(const Page& p, F&& to_json) {
  json::array a;
  a.reserve(p.items.size());
  for (auto& it : p.items) a.push_back(to_json(it));
  return a;
}

awaitable_response post_refresh(request_context& c) {
  validator v(c.params);
  auto b = parse_body(c.req.body(), v, true);
  if (!v.ok()) co_return validation_response(c.req, v.detail());
  if (b.project_id && !c.app.cache.project(*b.project_id)) {
    // SkillMeat's id for a project outside our search roots: registered and refreshed.
    auto registered = co_await register_unknown_id(c.app, *b.project_id);
    if (!registered) co_return not_found_project(c.req, *b.project_id);
    co_return json_response(c.req, http::status::ok, refresh_result_json(registered->refresh));
  }
  // A forced refresh of everything refetches the marketplace too (in the background).
  auto result = co_await async_refresh(c.app.cache, b.project_id, b.force, asio::use_awaitable);
  co_return json_response(c.req, http::status::ok, refresh_result_json(result));
}

// Contract's {"running","watches","fallback_roots"}, plus which backend and each backend's figures.
json::object watcher_json(const cache::watcher_state& w, json::array fallback) {
  json::array backends;
  for (auto& b : w.backends) {
    json::object o{{"backend", b.backend}, {"watches", b.watches}};
    if (b.backend == "poll") {
      o["interval_ms"] = b.interval_ms;
      o["entries"] = b.entries;
      o["ticks"] = b.ticks;
      o["last_tick_ms"] = b.last_tick_ms;
      o["cpu_ms_total"] = b.cpu_ms_total;
    }
    backends.push_back(std::move(o));
  }
  return json::object{{"running", w.running},
                      {"watches", w.watches},
                      {"fallback_roots", std::move(fallback)},
                      {"backend", w.backend.empty() ? json::value(nullptr) : json::value(w.backend)},
                      {"backends", std::move(backends)}};
}

json::object status_json(const status_inputs& in) {
  const auto& s = in.status;
  const auto& sched = in.schedule;
  const auto& w = in.watcher;
  json::object job{{"is_running", sched.is_running},
                   {"next_run_time", time_or_null(sched.next_run_time)},
                   {"last_run_time", time_or_null(sched.last_run_time)}};
  json::object progress{{"running", sched.full_refresh_running},
                        {"done", sched.progress_done},
                        {"total", sched.progress_total}};
  json::array fallback;
  for (auto& r : w.fallback_roots) fallback.emplace_back(r);
  return json::object{
      {"total_projects", s.total_projects},
      {"total_artifacts", s.total_artifacts},
      {"stale_projects", s.stale_projects},
      {"outdated_artifacts", s.outdated_artifacts},
      {"cache_size_bytes", s.cache_size_bytes},
      {"oldest_entry", time_or_null(s.oldest_entry)},
      {"newest_entry", time_or_null(s.newest_entry)},
      {"last_refresh", time_or_null(s.last_refresh)},
      {"refresh_job_status", std::move(job)},
      {"hit_rate", s.hit_rate ? json::value(*s.hit_rate) : json::value(nullptr)},
      {"hits", s.hits},
      {"misses", s.misses},
      {"watcher", watcher_json(w, std::move(fallback))},
      {"subscribers", in.subscribers},
      {"dropped_clients", in.dropped_clients},
      {"refresh_progress", std::move(progress)},
      {"generation", s.generation},
      {"store", json::object{{"degraded", s.store.degraded},
                             {"detail", opt_json(s.store.detail)},
                             {"since", time_or_null(s.store.since)},
                             {"failed_writes", s.store.failed_writes}}},
  };
}

// Status changes with the clock and with counters, so it is not cached per generation; but a
// poll that finds nothing changed since the last one gets the last body, built once.
awaitable_response get_status(request_context& c) {
  auto& app = c.app;
  auto f = app.cache.figures();
  status_inputs in{std::move(f.status), std::move(f.schedule), std::move(f.watcher), app.stats.subscribers.load(),
                   app.stats.dropped_clients.load()};
  auto hit = app.status_body.find(in);
  if (!hit) {
    auto body = to_json_text(status_json(in));
    hit = app.status_body.put(std::move(in), std::move(body));
  }
  auto res = shared_response(c.req, http::status::ok, hit->body, "application/json");
  res.set(http::field::etag, hit->etag);
  co_return res;
}

awaitable_response get_projects(request_context& c) {
  validator v(c.params);
  cache::project_query q;
  q.status = v.text("status");
  q.skip = v.integer("skip", 0, 0, std::nullopt);
  q.limit = v.integer("limit", 100, 1, 500);
  if (!v.ok()) co_return validation_response(c.req, v.detail());
  c.app.cache.note_read(std::nullopt);
  auto build = [&] {
    auto page = c.app.cache.list_projects(q);
    return json::object{{"items", items_of(page, [](auto& p) { return project_item_json(*p); })},
                        {"total", page.total},
                        {"skip", q.skip},
                        {"limit", q.limit}};
  };
  // "stale" is a TTL test: it changes with the clock, not only with the snapshot.
  if (q.status == "stale") co_return json_response(c.req, http::status::ok, build());
  co_return cached_json(c, canonical_key(c.path, {{"status", q.status}, {"skip", std::to_string(q.skip)},
                                                  {"limit", std::to_string(q.limit)}}),
                        build);
}

awaitable_response get_project(request_context& c) {
  auto p = c.app.cache.project(c.path_param);
  c.app.cache.note_read(c.path_param);
  if (!p) co_return not_found_project(c.req, c.path_param);
  co_return cached_json(c, canonical_key(c.path, {}), [&] { return project_detail_json(*p); });
}

awaitable_response get_artifacts(request_context& c) {
  validator v(c.params);
  cache::artifact_query q;
  q.project_id = v.text("project_id");
  q.type = v.text("type");
  q.is_outdated = v.boolean("is_outdated");
  q.skip = v.integer("skip", 0, 0, std::nullopt);
  q.limit = v.integer("limit", 100, 1, 500);
  if (!v.ok()) co_return validation_response(c.req, v.detail());
  c.app.cache.note_read(q.project_id);
  std::optional<std::string> outdated;
  if (q.is_outdated) outdated = *q.is_outdated ? "1" : "0";
  auto key = canonical_key(c.path, {{"project_id", q.project_id}, {"type", q.type}, {"is_outdated", outdated},
                                    {"skip", std::to_string(q.skip)}, {"limit", std::to_string(q.limit)}});
  co_return cached_json(c, key, [&] {
    auto page = c.app.cache.list_artifacts(q);
    return json::object{{"items", items_of(page, [](auto& a) { return artifact_json(*a); })},
                        {"total", page.total},
                        {"skip", q.skip},
                        {"limit", q.limit}};
  });
}

awaitable_response get_stale(request_context& c) {
  validator v(c.params);
  cache::stale_query q;
  q.type = v.text("type");
  q.project_id = v.text("project_id");
  q.sort_by = v.text("sort_by").value_or("name");
  auto order = v.text("sort_order").value_or("asc");
  q.skip = v.integer("skip", 0, 0, std::nullopt);
  q.limit = v.integer("limit", 100, 1, 500);
  if (!v.ok()) co_return validation_response(c.req, v.detail());
  if (q.sort_by != "name" && q.sort_by != "type" && q.sort_by != "project" && q.sort_by != "version_diff")
    co_return error_response(c.req, http::status::bad_request,
                             "Invalid sort_by field: " + q.sort_by + ". Valid options: name, type, project, version_diff");
  q.descending = ascii_lower(order) == "desc";
  c.app.cache.note_read(q.project_id);
  auto key = canonical_key(c.path, {{"type", q.type}, {"project_id", q.project_id}, {"sort_by", q.sort_by},
                                    {"desc", q.descending ? "1" : "0"}, {"skip", std::to_string(q.skip)},
                                    {"limit", std::to_string(q.limit)}});
  co_return cached_json(c, key, [&] {
    auto page = c.app.cache.stale_artifacts(q);
    return json::object{{"items", items_of(page, [](auto& s) { return stale_item_json(s); })}, {"total", page.total}};
  });
}

awaitable_response get_search(request_context& c) {
  validator v(c.params);
  cache::search_query q;
  auto query = v.required_text("query", 1);
  q.project_id = v.text("project_id");
  q.type = v.text("type");
  q.skip = v.integer("skip", 0, 0, std::nullopt);
  q.limit = v.integer("limit", 50, 1, 200);
  q.sort_by = v.text("sort_by").value_or("relevance");
  if (!v.ok()) co_return validation_response(c.req, v.detail());
  if (q.sort_by != "relevance" && q.sort_by != "name" && q.sort_by != "type" && q.sort_by != "updated")
    co_return error_response(c.req, http::status::bad_request,
                             "Invalid sort_by value. Must be one of: relevance, name, type, updated");
  q.query = *query;
  c.app.cache.note_read(q.project_id);
  auto key = canonical_key(c.path, {{"query", q.query}, {"project_id", q.project_id}, {"type", q.type},
                                    {"sort_by", q.sort_by}, {"skip", std::to_string(q.skip)},
                                    {"limit", std::to_string(q.limit)}});
  co_return cached_json(c, key, [&] {
    auto page = c.app.cache.search(q);
    return json::object{{"items", items_of(page, [](auto& s) { return search_item_json(s); })},
                        {"total", page.total},
                        {"query", q.query},
                        {"skip", q.skip},
                        {"limit", q.limit}};
  });
}

awaitable_response post_invalidate(request_context& c) {
  validator v(c.params);
  auto b = parse_body(c.req.body(), v, true);
  if (!v.ok()) co_return validation_response(c.req, v.detail());
  if (b.project_id && !c.app.cache.project(*b.project_id)) co_return not_found_project(c.req, *b.project_id);
  auto count = co_await async_invalidate(c.app.cache, b.project_id, asio::use_awaitable);
  std::string message = b.project_id ? "Invalidated " + std::to_string(count) + " project(s) successfully"
                                     : "Invalidated entire cache (" + std::to_string(count) + " projects)";
  co_return json_response(c.req, http::status::ok,
                          json::object{{"success", true}, {"invalidated_count", count}, {"message", message}});
}

awaitable_response get_marketplace(request_context& c) {
  validator v(c.params);
  auto type = v.text("type");
  auto skip = v.integer("skip", 0, 0, std::nullopt);
  auto limit = v.integer("limit", 100, 1, 500);
  if (!v.ok()) co_return validation_response(c.req, v.detail());
  auto page = c.app.cache.marketplace(type, skip, limit);
  json::array items;
  for (auto& m : page.items) items.push_back(marketplace_json(m));
  co_return json_response(c.req, http::status::ok,
                          json::object{{"items", std::move(items)}, {"total", page.total}, {"skip", skip}, {"limit", limit}});
}
// Not SkillMeat's: where this server looks, for the dashboard's empty state (and anyone asking
// why a project is not listed). Read now, so a root created since start shows as there.
awaitable_response get_config(request_context& c) {
  const auto& s = c.app.cache.config();
  auto places = [](const std::vector<std::filesystem::path>& paths) {
    json::array out;
    std::error_code ec;
    for (auto& p : paths) out.push_back(json::object{{"path", p.string()}, {"exists", std::filesystem::is_directory(p, ec)}});
    return out;
  };
  co_return json_response(c.req, http::status::ok,
                          json::object{{"version", PROJCACHE_VERSION},
                                       {"home", s.home.string()},
                                       {"database", s.db_path.string()},
                                       {"search_roots", places(s.search_roots)},
                                       {"projects", places(s.explicit_projects)},
                                       {"discovery_depth", s.discovery_depth},
                                       {"ttl_minutes", s.ttl_minutes}});
}

// Not SkillMeat's: what `projcache vacuum` asks a running server to do.
awaitable_response post_vacuum(request_context& c) {
  auto r = co_await async_compact(c.app.cache, asio::use_awaitable);
  if (!r.success)
    co_return error_response(c.req, http::status::service_unavailable,
                             "The cache database could not be compacted (" + r.error + "); free some disk space and try again");
  co_return json_response(c.req, http::status::ok,
                          json::object{{"success", true},
                                       {"before_bytes", r.before_bytes},
                                       {"after_bytes", r.after_bytes},
                                       {"duration_seconds", r.duration_seconds},
                                       {"message", "Vacuumed: " + std::to_string(r.before_bytes) + " -> " +
                                                       std::to_string(r.after_bytes) + " bytes"}});
}
}  // namespace

void register_cache_routes(router& r) {
  std::string p = prefix;
  r.add(http::verb::post, p + "/refresh", post_refresh);
  r.add(http::verb::get, p + "/status", get_status);
  r.add(http::verb::get, p + "/projects", get_projects);
  r.add(http::verb::get, p + "/projects/{id}", get_project);
  r.add(http::verb::get, p + "/artifacts", get_artifacts);
  r.add(http::verb::get, p + "/stale-artifacts", get_stale);
  r.add(http::verb::get, p + "/search", get_search);
  r.add(http::verb::post, p + "/invalidate", post_invalidate);
  r.add(http::verb::post, p + "/vacuum", post_vacuum);
  r.add(http::verb::get, p + "/config", get_config);
  r.add(http::verb::get, p + "/marketplace", get_marketplace);
}

}  // namespace projcache::net
