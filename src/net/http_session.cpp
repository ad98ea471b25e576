#include "net/http_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/log/trivial.hpp>
#include <array>
#include <chrono>

#include "net/app_context.hpp"
#include "net/admission.hpp"
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
  } catch (const std::exception& e) {
    BOOST_LOG_TRIVIAL(error) << "request " << request_id << " " << req.method_string() << " " << path
                             << " failed: " << e.what();
  }
  co_return error_response(req, http::status::internal_server_error, "Internal Server Error");
}

// The header block and the body in one plain write (see wire_header).
asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> write_response(beast::tcp_stream& stream,
                                                                                  const response& res) {
  auto head = wire_header(res);
  auto body = res.body().view();
  std::array<asio::const_buffer, 2> wire{asio::buffer(head), asio::buffer(body.data(), body.size())};
  co_return co_await asio::async_write(stream, wire, as_tuple_awaitable);
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

asio::awaitable<void> run_http_session(asio::ip::tcp::socket socket, app_context& app) {
  struct counted {  // the listener counted us in; we count ourselves out, whatever the exit
    std::atomic<std::int64_t>& n;
    ~counted() { --n; }
  } guard{app.stats.connections};

  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buf;
  // Whether we wait for a next request, for the listener's eviction (below). One per connection:
  // it outlives us for an eviction still in flight, which then finds it false and does nothing.
  auto idle = std::make_shared<bool>(false);
  struct not_idle_at_exit {
    std::shared_ptr<bool> flag;
    ~not_idle_at_exit() { *flag = false; }
  } at_exit{idle};
  for (;;) {
    if (app.stopping) break;
    if (buf.size() == 0) {  // keep-alive: wait for the next request's first bytes
      stream.expires_after(app.opts.idle_timeout);
      // Idle: the listener may close us to admit a new client at the cap. The close runs on our
      // strand, and only while we wait here (so `stream` is alive when it runs).
      *idle = true;
      auto slot = app.idle.add([ex = stream.get_executor(), idle, &stream] {
        asio::post(ex, [idle, &stream] {
          if (*idle) stream.cancel();
        });
      });
      auto [ec, n] = co_await stream.async_read_some(buf.prepare(8192), as_tuple_awaitable);
      *idle = false;
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
        co_await write_response(stream, *refusal);
        break;
      }
      // curl and others wait up to a second for this before they send a body.
      if (!parser.is_done() && expects_continue(parser.get())) {
        static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [cec, cn] = co_await asio::async_write(stream, asio::buffer(go_on), as_tuple_awaitable);
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
        co_await write_response(stream, *reply);
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
        if (auto refusal = admit_upgrade(req, app.opts, subprotocol)) {
          refusal->keep_alive(false);
          stream.expires_after(app.opts.request_timeout);
          co_await write_response(stream, *refusal);
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
    auto [wec, wn] = co_await write_response(stream, res);
    if (wec || !res.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace projcache::net
