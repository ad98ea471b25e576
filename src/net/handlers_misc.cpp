// Health, metrics, the events route without an upgrade, and the dashboard assets.
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "cache/service.hpp"
#include "events/bus.hpp"
#include "net/app_context.hpp"
#include "net/assets.hpp"
#include "net/handlers.hpp"
#include "net/json_dto.hpp"
#include "net/openapi.hpp"
#include "net/query.hpp"
#include "net/responses.hpp"

namespace asio = boost::asio;
namespace json = boost::json;

namespace projcache::net {

namespace {
using awaitable_response = asio::awaitable<response>;

awaitable_response get_healthz(request_context& c) {
  co_return json_response(c.req, http::status::ok, json::object{{"status", "ok"}});
}

awaitable_response get_readyz(request_context& c) {
  bool ready = c.app.cache.ready();
  co_return json_response(c.req, ready ? http::status::ok : http::status::service_unavailable,
                          json::object{{"status", ready ? "ready" : "starting"}});
}

awaitable_response get_metrics(request_context& c) {
  co_return text_response(c.req, http::status::ok, render_metrics(c.app), "text/plain; version=0.0.4; charset=utf-8");
}

// bench/ only (serve --bench-routes): publishes n synthetic events of about `size` bytes through
// the real bus and WebSocket path, so fan-out is measured without waiting on refreshes.
awaitable_response post_bench_publish(request_context& c) {
  validator v(c.params);
  auto n = v.integer("n", 10000, 1, 1'000'000);
  auto size = v.integer("size", 250, 0, 60'000);
  if (!v.ok()) co_return validation_response(c.req, v.detail());
  auto e = events::refresh_completed("bench", false, {}, 0);
  auto base = events::to_json(e, 1, now_micros()).size() + 12;
  e.extra = {{"pad", std::string(static_cast<std::size_t>(size) > base ? static_cast<std::size_t>(size) - base : 0, 'x')}};
  for (std::int64_t i = 0; i < n; ++i) c.app.bus.publish(e);
  co_return json_response(c.req, http::status::ok, json::object{{"published", n}});
}

awaitable_response get_events_without_upgrade(request_context& c) {
  auto res = error_response(c.req, http::status::upgrade_required, "WebSocket upgrade required");
  res.set(http::field::upgrade, "websocket");
  co_return res;
}

awaitable_response get_asset(request_context& c) {
  std::string name = c.path == "/"               ? "index.html"
                     : c.path == "/favicon.ico" ? "favicon.svg"  // every browser asks for it
                                                : c.path.substr(c.path.rfind('/') + 1);
  auto a = find_asset(name);
  if (!a) co_return error_response(c.req, http::status::not_found, "Not Found");
  auto res = text_response(c.req, http::status::ok, std::string(a->content), a->content_type);
  res.set(http::field::cache_control, "no-cache");
  co_return res;
}
}  // namespace

void register_misc_routes(router& r) {
  r.add(http::verb::get, "/healthz", get_healthz);
  r.add(http::verb::get, "/readyz", get_readyz);
  r.add(http::verb::get, "/metrics", get_metrics);
  r.add(http::verb::get, "/api/v1/cache/events", get_events_without_upgrade);
  r.add(http::verb::get, "/", get_asset);
  r.add(http::verb::get, "/favicon.ico", get_asset);
  r.add(http::verb::post, "/api/v1/bench/publish", [](request_context& c) -> awaitable_response {
    if (!c.app.opts.bench_routes) co_return error_response(c.req, http::status::not_found, "Not Found");
    co_return co_await post_bench_publish(c);
  });
  r.add(http::verb::get, "/assets/{name}", get_asset);
  r.add(http::verb::get, "/openapi.json", [](request_context& c) -> awaitable_response {
    co_return json_response(c.req, http::status::ok, openapi_document(c.app.routes));
  });
}

}  // namespace projcache::net
