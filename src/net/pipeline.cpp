#include "net/pipeline.hpp"

#include <atomic>
#include <boost/log/trivial.hpp>
#include <chrono>

#include "common/unexpected.hpp"
#include "net/admission.hpp"
#include "net/app_context.hpp"
#include "net/query.hpp"
#include "net/responses.hpp"

namespace asio = boost::asio;

namespace projcache::net {

namespace {
std::atomic<std::uint64_t> request_counter{0};

std::string next_request_id() {
  std::string id(12, '0');  // 12 hex digits, zero-padded
  for (auto n = ++request_counter, i = std::uint64_t{12}; i-- > 0 && n; n >>= 4) id[i] = "0123456789abcdef"[n & 15];
  return id;
}

// The route's handler, or 404/405; unexpected exceptions are caught here, once.
asio::awaitable<response> route(const request& req, std::string path, query_list params, app_context& app,
                                const std::string& request_id, std::string_view& route_name) {
  auto m = app.routes.find(path, req.method() == http::verb::head ? http::verb::get : req.method());
  if (!m.path_known) co_return error_response(req, http::status::not_found, "Not Found");
  route_name = m.pattern;
  if (!m.h) {
    auto res = error_response(req, http::status::method_not_allowed, "Method Not Allowed");
    res.set(http::field::allow, m.allow);
    co_return res;
  }
  request_context ctx{req, path, std::move(params), std::move(m.param), app, request_id};
  try {
    co_return co_await (*m.h)(ctx);
  } catch (...) {
    log_exception("request " + request_id + " " + std::string(req.method_string()) + " " + path + " failed",
                  std::current_exception());
  }
  co_return error_response(req, http::status::internal_server_error, "Internal Server Error");
}

// GET and HEAD answers: an ETag on every 200, 304 for a matching If-None-Match, HEAD bodiless.
void finish_conditional(const request& req, response& res) {
  if ((req.method() == http::verb::get || req.method() == http::verb::head) && res.result() == http::status::ok) {
    // Cached bodies come with their ETag; the others are hashed here.
    std::string etag = res.count(http::field::etag) ? std::string(res[http::field::etag]) : etag_of(res.body().view());
    res.set(http::field::etag, etag);
    auto inm = req.find(http::field::if_none_match);
    if (inm != req.end() && (inm->value().find(etag) != std::string_view::npos || inm->value() == "*")) {
      response nm{http::status::not_modified, req.version()};
      nm.set(http::field::etag, etag);
      nm.set(http::field::server, "projcache");
      nm.keep_alive(req.keep_alive());
      res = std::move(nm);
    }
  }
  if (req.method() == http::verb::head) {
    auto len = res.body().size();
    res.body().clear();
    res.content_length(len);
  }
}
}  // namespace

asio::awaitable<response> dispatch(const request& req, app_context& app) {
  auto t0 = std::chrono::steady_clock::now();
  auto request_id = next_request_id();
  app.stats.requests.fetch_add(1, std::memory_order_relaxed);

  std::string path;
  bool target_ok = false;
  auto params = parse_target(req.target(), path, target_ok);
  std::string_view route_name = "unmatched";
  response res;
  if (!target_ok) {
    res = error_response(req, http::status::bad_request, "Invalid request target");
  } else if (auto answered = admit(req, path, app.opts)) {
    res = std::move(*answered);
  } else {
    res = co_await route(req, path, std::move(params), app, request_id, route_name);
    finish_conditional(req, res);
  }
  add_cors(res, req, app.opts);
  res.set("X-Request-ID", request_id);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
  app.metrics.record(route_name, res.result_int(), static_cast<double>(us) / 1e6);
  BOOST_LOG_TRIVIAL(debug) << "request " << request_id << " " << req.method_string() << " " << path << " "
                           << res.result_int() << " " << us << "us";
  co_return res;
}

}  // namespace projcache::net
