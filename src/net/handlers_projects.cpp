// Which projects the cache holds: registering and forgetting explicit projects at run time
// (POST/DELETE /api/v1/cache/projects), and SkillMeat's own /api/v1/projects/cache routes
// (refresh, stats, clear), including project ids SkillMeat knows and we do not yet.
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "cache/service.hpp"
#include "common/paths.hpp"
#include "net/app_context.hpp"
#include "net/handlers.hpp"
#include "net/json_dto.hpp"
#include "net/query.hpp"
#include "net/refresh_await.hpp"
#include "net/responses.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace projcache::net {

asio::awaitable<std::optional<cache::register_outcome>> register_unknown_id(app_context& app, const std::string& id) {
  auto path = path_of_project_id(id);
  if (!path) co_return std::nullopt;
  auto out = co_await async_register(app.cache, *path, asio::use_awaitable);
  if (out.what != cache::register_outcome::kind::registered &&
      out.what != cache::register_outcome::kind::already_registered)
    co_return std::nullopt;
  co_return out;
}

namespace {
using awaitable_response = asio::awaitable<response>;

// {"path": "<absolute path>"}, validated as FastAPI validates a pydantic model.
std::optional<fs::path> parse_path_body(std::string_view body, validator& v) {
  boost::system::error_code ec;
  json::value doc = body.find_first_not_of(" \t\r\n") == std::string_view::npos ? json::value() : json::parse(body, ec);
  if (doc.is_null() && !ec) {
    v.add("missing", {"body"}, "Field required", nullptr);
    return std::nullopt;
  }
  if (ec) {
    v.add("json_invalid", {"body", 0}, "JSON decode error", json::object{}, json::object{{"error", ec.message()}});
    return std::nullopt;
  }
  auto* o = doc.if_object();
  if (!o) {
    v.add("model_attributes_type", {"body"}, "Input should be a valid dictionary or object to extract fields from", doc);
    return std::nullopt;
  }
  auto it = o->find("path");
  if (it == o->end()) {
    v.add("missing", {"body", "path"}, "Field required", *o);
    return std::nullopt;
  }
  if (!it->value().is_string()) {
    v.add("string_type", {"body", "path"}, "Input should be a valid string", it->value());
    return std::nullopt;
  }
  std::string text(it->value().as_string());
  fs::path p = expand_home(text);
  if (!p.is_absolute()) {
    v.add("value_error", {"body", "path"}, "Value error, the path must be absolute (or start with ~/)", it->value(),
          json::object{{"error", "relative path"}});
    return std::nullopt;
  }
  return p;
}

response project_answer(request_context& c, http::status status, const std::string& id) {
  auto p = c.app.cache.project(id);
  if (!p) return error_response(c.req, http::status::not_found, "Project '" + id + "' not found");
  return json_response(c.req, status, project_detail_json(*p));
}

awaitable_response post_projects(request_context& c) {
  validator v(c.params);
  auto path = parse_path_body(c.req.body(), v);
  if (!v.ok()) co_return validation_response(c.req, v.detail());
  auto out = co_await async_register(c.app.cache, *path, asio::use_awaitable);
  using kind = cache::register_outcome::kind;
  switch (out.what) {
    case kind::no_deployment:
      co_return error_response(c.req, http::status::not_found, out.detail);
    case kind::failed:
      co_return error_response(c.req, http::status::service_unavailable, out.detail);
    case kind::registered:
      co_return project_answer(c, http::status::created, out.project_id);
    case kind::already_registered:
      break;
  }
  co_return project_answer(c, http::status::ok, out.project_id);
}

awaitable_response delete_project(request_context& c) {
  const auto& id = c.path_param;
  auto out = co_await async_forget(c.app.cache, id, asio::use_awaitable);
  switch (out) {
    case cache::forget_outcome::configured:
      co_return error_response(c.req, http::status::conflict,
                               "Project '" + id + "' is configured (config.toml `projects` or SKILLMEAT_CACHE_PROJECTS); "
                               "remove it there and restart");
    case cache::forget_outcome::not_registered:
      co_return error_response(c.req, http::status::not_found,
                               "Project '" + id + "' was not registered through POST /api/v1/cache/projects");
    case cache::forget_outcome::failed:
      co_return error_response(c.req, http::status::service_unavailable,
                               "The cache database could not record the change; check the disk and try again");
    case cache::forget_outcome::forgotten:
      break;
  }
  bool still = static_cast<bool>(c.app.cache.project(id));
  std::string message = still ? "Project unregistered; it stays cached because a search root still holds it"
                              : "Project unregistered and removed from the cache";
  co_return json_response(c.req, http::status::ok,
                          json::object{{"success", true}, {"project_id", id}, {"removed", !still}, {"message", message}});
}

json::object project_cache_stats(app_context& app) {
  auto f = app.cache.figures();
  const auto& s = f.status;
  const auto& sched = f.schedule;
  double ttl = static_cast<double>(app.cache.config().ttl_minutes) * 60.0;
  json::value age = nullptr;
  bool valid = false;
  if (sched.last_run_time) {
    double a = static_cast<double>(now_micros() - *sched.last_run_time) / 1e6;
    age = a;
    valid = a < ttl;
  }
  return json::object{{"entries", s.total_projects},
                      {"last_scan", time_or_null(sched.last_run_time)},
                      {"last_update", time_or_null(s.last_refresh)},
                      {"cache_ttl", ttl},
                      {"is_valid", valid},
                      {"age_seconds", age}};
}

awaitable_response get_project_cache_stats(request_context& c) {
  co_return json_response(c.req, http::status::ok, project_cache_stats(c.app));
}

// SkillMeat's rescan: it succeeded when the rescan ran. A project that fails keeps its own
// error (shown in /cache/projects); the message counts those errors.
awaitable_response post_project_cache_refresh(request_context& c) {
  validator v(c.params);
  auto project_id = parse_body(c.req.body(), v, false, false).project_id;  // the body is optional here
  if (!v.ok()) co_return validation_response(c.req, v.detail());
  cache::refresh_result r;
  std::optional<cache::register_outcome> registered;
  if (project_id && !c.app.cache.project(*project_id)) registered = co_await register_unknown_id(c.app, *project_id);
  if (registered)
    r = registered->refresh;
  else if (project_id && c.app.cache.project(*project_id))
    r = co_await async_refresh(c.app.cache, project_id, true, asio::use_awaitable);
  else  // no id, or one that names no project on disk: rescan everything, as SkillMeat does
    r = co_await async_refresh(c.app.cache, std::nullopt, true, asio::use_awaitable);
  std::string message = "Cache refreshed successfully";
  if (!r.errors.empty()) message += " (" + std::to_string(r.errors.size()) + " project(s) with errors)";
  co_return json_response(c.req, http::status::ok,
                          json::object{{"success", true}, {"message", message}, {"stats", project_cache_stats(c.app)}});
}

awaitable_response post_project_cache_clear(request_context& c) {
  auto r = co_await async_clear(c.app.cache, asio::use_awaitable);
  if (!r)
    co_return error_response(c.req, http::status::service_unavailable,
                             "The cache database could not be emptied; check the disk and try again");
  auto found = static_cast<std::int64_t>(c.app.cache.current()->projects.size());
  co_return json_response(c.req, http::status::ok,
                          json::object{{"success", true},
                                       {"message", "Cache cleared and " + std::to_string(found) + " projects rediscovered"},
                                       {"projects_found", found}});
}
}  // namespace

void register_project_routes(router& r) {
  r.add(http::verb::post, "/api/v1/cache/projects", post_projects);
  r.add(http::verb::delete_, "/api/v1/cache/projects/{id}", delete_project);
  r.add(http::verb::get, "/api/v1/projects/cache/stats", get_project_cache_stats);
  r.add(http::verb::post, "/api/v1/projects/cache/refresh", post_project_cache_refresh);
  r.add(http::verb::post, "/api/v1/projects/cache/clear", post_project_cache_clear);
}

}  // namespace projcache::net
