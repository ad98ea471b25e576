#include "net/http_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/log/trivial.hpp>
#include <chrono>

#include "common/ascii.hpp"
#include "net/app_context.hpp"
#include "net/http_policy.hpp"
#include "net/query.hpp"
#include "net/responses.hpp"
#include "net/ws_session.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::use_awaitable;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace projcache::net {

namespace {
constexpr std::string_view events_path = "/api/v1/cache/events";
std::atomic<std::uint64_t> request_counter{0};

bool needs_key(std::string_view path) {
  return !(path == "/healthz" || path == "/readyz" || path == "/" || path.starts_with("/assets/"));
}

response auth_failure(const request& req, auth_result r) {
  if (r == auth_result::missing) {
    auto res = error_response(req, http::status::unauthorized, "API key required");
    res.set(http::field::www_authenticate, "ApiKey");
    return res;
  }
  return error_response(req, http::status::forbidden, "Invalid API key");
}

std::optional<std::string_view> header(const request& req, std::string_view name) {
  auto it = req.find(name);
  if (it == req.end()) return std::nullopt;
  return it->value();
}

void add_cors(response& res, const request& req, const options& o) {
  auto origin = header(req, "Origin");
  if (origin && origin_allowed(o, *origin)) {
    res.set(http::field::access_control_allow_origin, *origin);
    res.set(http::field::access_control_allow_credentials, "true");
    res.set(http::field::access_control_expose_headers, "ETag, X-Request-ID");
    res.set(http::field::vary, "Origin");
  }
}

// A state-changing request from a foreign page, or with a body that is not JSON, is refused
// before routing, key or no key: a page on any site can POST text/plain without a preflight.
std::optional<response> refuse_write(const request& req, const options& o) {
  auto m = req.method();
  if (m != http::verb::post && m != http::verb::put && m != http::verb::patch && m != http::verb::delete_)
    return std::nullopt;
  if (!page_origin_allowed(o, header(req, "Origin"), req[http::field::host]))
    return error_response(req, http::status::forbidden, "Origin not allowed");
  if (!req.body().empty() && !is_json_content_type(header(req, "Content-Type")))
    return error_response(req, http::status::unsupported_media_type, "Content-Type must be application/json");
  return std::nullopt;
}

bool expects_continue(const request& req) {
  auto e = header(req, "Expect");
  return req.version() == 11 && e && beast::iequals(*e, "100-continue");
}

// RFC 9112 framing that Beast would read leniently: one Host, transfer codings we can read.
std::optional<response> refuse_framing(const request& req) {
  if (req.count(http::field::host) > 1) return error_response(req, http::status::bad_request, "Invalid host header");
  if (auto e = header(req, "Expect"); e && !beast::iequals(*e, "100-continue"))
    return error_response(req, http::status::expectation_failed, "Only Expect: 100-continue is understood");
  auto te = header(req, "Transfer-Encoding");
  if (!te) return std::nullopt;
  std::vector<std::string> codings;
  for (auto part : http::token_list(*te)) codings.push_back(ascii_lower(std::string_view(part.data(), part.size())));
  if (codings.empty() || codings.back() != "chunked")
    return error_response(req, http::status::bad_request, "Malformed request: chunked must be the last transfer coding");
  for (auto& c : codings)
    if (c != "chunked")
      return error_response(req, http::status::not_implemented, "Transfer coding not supported: " + c);
  return std::nullopt;
}

// Checks of an upgrade request; the failure response, or nothing when it may proceed.
std::optional<response> refuse_upgrade(const request& req, app_context& app, std::string& subprotocol) {
  if (!host_allowed(app.opts, req[http::field::host]))
    return error_response(req, http::status::bad_request, "Invalid host header");
  // RFC 6455: the base64 of 16 random bytes. Beast answers 101 to any key.
  if (auto key = header(req, "Sec-WebSocket-Key"); !key || !valid_websocket_key(*key))
    return error_response(req, http::status::bad_request, "Invalid Sec-WebSocket-Key");
  if (!page_origin_allowed(app.opts, header(req, "Origin"), req[http::field::host]))
    return error_response(req, http::status::forbidden, "Origin not allowed");
  auto r = check_api_key(app.opts, header(req, "X-API-Key"), header(req, "Sec-WebSocket-Protocol"), &subprotocol);
  if (r != auth_result::ok) return auth_failure(req, r);
  return std::nullopt;
}
}  // namespace

asio::awaitable<response> dispatch(const request& req, app_context& app) {
  auto t0 = std::chrono::steady_clock::now();
  std::string request_id(12, '0');  // 12 hex digits, zero-padded
  for (auto n = ++request_counter, i = std::uint64_t{12}; i-- > 0 && n; n >>= 4) request_id[i] = "0123456789abcdef"[n & 15];
  app.stats.requests.fetch_add(1, std::memory_order_relaxed);

  std::string path;
  bool target_ok = false;
  auto params = parse_target(req.target(), path, target_ok);
  response res;
  std::string_view route = "unmatched";
  auto origin = header(req, "Origin");
  if (!target_ok) {
    res = error_response(req, http::status::bad_request, "Invalid request target");
  } else if (!host_allowed(app.opts, req[http::field::host])) {
    res = error_response(req, http::status::bad_request, "Invalid host header");
  } else if (req.method() == http::verb::options && origin && header(req, "Access-Control-Request-Method")) {
    if (origin_allowed(app.opts, *origin)) {
      res = text_response(req, http::status::ok, "OK", "text/plain; charset=utf-8");
      res.set(http::field::access_control_allow_methods, "GET, POST, DELETE, OPTIONS");
      res.set(http::field::access_control_allow_headers,
              header(req, "Access-Control-Request-Headers").value_or("Content-Type, X-API-Key"));
      res.set(http::field::access_control_max_age, "600");
    } else {
      res = text_response(req, http::status::bad_request, "Disallowed CORS origin", "text/plain; charset=utf-8");
    }
  } else if (auto a = needs_key(path) ? check_api_key(app.opts, header(req, "X-API-Key")) : auth_result::ok;
             a != auth_result::ok) {
    res = auth_failure(req, a);
  } else if (auto refusal = refuse_write(req, app.opts)) {
    res = std::move(*refusal);
  } else {
    auto m = app.routes.find(path, req.method() == http::verb::head ? http::verb::get : req.method());
    if (m.path_known) route = m.pattern;
    if (!m.path_known) {
      res = error_response(req, http::status::not_found, "Not Found");
    } else if (!m.h) {
      res = error_response(req, http::status::method_not_allowed, "Method Not Allowed");
      res.set(http::field::allow, m.allow);
    } else {
      request_context ctx{req, path, std::move(params), std::move(m.param), app, request_id};
      try {
        res = co_await (*m.h)(ctx);
      } catch (const std::exception& e) {
        BOOST_LOG_TRIVIAL(error) << "request " << request_id << " " << req.method_string() << " " << path
                                 << " failed: " << e.what();
        res = error_response(req, http::status::internal_server_error, "Internal Server Error");
      }
      if ((req.method() == http::verb::get || req.method() == http::verb::head) && res.result() == http::status::ok) {
        // Cached bodies come with their ETag; the others are hashed here.
        std::string etag = res.count(http::field::etag) ? std::string(res[http::field::etag]) : etag_of(res.body().view());
        res.set(http::field::etag, etag);
        if (auto inm = header(req, "If-None-Match"); inm && (inm->find(etag) != std::string_view::npos || *inm == "*")) {
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
  }
  add_cors(res, req, app.opts);
  res.set("X-Request-ID", request_id);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
  app.metrics.record(route, res.result_int(), static_cast<double>(us) / 1e6);
  BOOST_LOG_TRIVIAL(debug) << "request " << request_id << " " << req.method_string() << " " << path << " "
                           << res.result_int() << " " << us << "us";
  co_return res;
}

asio::awaitable<void> run_http_session(asio::ip::tcp::socket socket, app_context& app) {
  struct counted {  // the listener counted us in; we count ourselves out, whatever the exit
    std::atomic<std::int64_t>& n;
    ~counted() { --n; }
  } guard{app.stats.connections};

  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buf;
  for (;;) {
    if (app.stopping) break;
    if (buf.size() == 0) {  // keep-alive: wait for the next request's first bytes
      stream.expires_after(app.opts.idle_timeout);
      // Idle: the listener may close us to admit a new client at the cap. The close runs on our
      // strand, and only while we still wait here (so `stream` is alive when it runs).
      auto still_idle = std::make_shared<bool>(true);
      auto slot = app.idle.add([ex = stream.get_executor(), still_idle, &stream] {
        asio::post(ex, [still_idle, &stream] {
          if (*still_idle) stream.cancel();
        });
      });
      auto [ec, n] = co_await stream.async_read_some(buf.prepare(8192), as_tuple_awaitable);
      *still_idle = false;
      app.idle.remove(slot);
      if (ec) break;
      buf.commit(n);
    }
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(app.opts.header_limit));
    parser.body_limit(app.opts.body_limit);
    stream.expires_after(app.opts.request_timeout);  // the whole request, however slowly sent
    auto [ec, n] = co_await http::async_read_header(stream, buf, parser, as_tuple_awaitable);
    if (!ec) {
      if (auto refusal = refuse_framing(parser.get())) {
        refusal->keep_alive(false);
        co_await http::async_write(stream, *refusal, as_tuple_awaitable);
        break;
      }
      // curl and others wait up to a second for this before they send a body.
      if (!parser.is_done() && expects_continue(parser.get())) {
        http::response<http::empty_body> go_on{http::status::continue_, 11};
        auto [cec, cn] = co_await http::async_write(stream, go_on, as_tuple_awaitable);
        ec = cec;
      }
      if (!ec && !parser.is_done()) std::tie(ec, n) = co_await http::async_read(stream, buf, parser, as_tuple_awaitable);
    }
    if (ec) {
      std::optional<response> reply;
      request dummy;
      dummy.version(11);
      dummy.keep_alive(false);
      if (ec == http::error::header_limit)
        reply = error_response(dummy, http::status::request_header_fields_too_large, "Request header fields too large");
      else if (ec == http::error::body_limit)
        reply = error_response(dummy, http::status::payload_too_large, "Request body too large");
      else if (ec != beast::error::timeout && ec != http::error::end_of_stream && ec != asio::error::eof &&
               ec != asio::error::connection_reset && ec != asio::error::operation_aborted)
        reply = error_response(dummy, http::status::bad_request, "Malformed request");
      if (reply) {
        reply->keep_alive(false);
        stream.expires_after(app.opts.request_timeout);
        co_await http::async_write(stream, *reply, as_tuple_awaitable);
      }
      break;
    }
    request req = parser.release();
    if (beast::websocket::is_upgrade(req)) {
      std::string path;
      bool ok = false;
      parse_target(req.target(), path, ok);
      if (ok && path == events_path) {
        std::string subprotocol;
        if (auto refusal = refuse_upgrade(req, app, subprotocol)) {
          refusal->keep_alive(false);
          stream.expires_after(app.opts.request_timeout);
          co_await http::async_write(stream, *refusal, as_tuple_awaitable);
          break;
        }
        stream.expires_never();
        start_ws_session(std::move(stream), std::move(req), std::move(subprotocol), app);
        co_return;
      }
    }
    app.stats.in_flight.fetch_add(1);
    response res = co_await dispatch(req, app);
    app.stats.in_flight.fetch_sub(1);
    if (app.stopping) res.keep_alive(false);
    stream.expires_after(app.opts.request_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, as_tuple_awaitable);
    if (wec || !res.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace projcache::net
