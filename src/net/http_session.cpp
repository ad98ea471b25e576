#include "net/http_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <array>
#include <chrono>

#include "net/app_context.hpp"
#include "net/pipeline.hpp"
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
// The header block and the body in one plain write (see wire_header).
asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> write_response(beast::tcp_stream& stream,
                                                                                  const response& res) {
  auto head = wire_header(res);
  auto body = res.body().view();
  std::array<asio::const_buffer, 2> wire{asio::buffer(head), asio::buffer(body.data(), body.size())};
  co_return co_await asio::async_write(stream, wire, as_tuple_awaitable);
}

}  // namespace

// Keep-alive: waits for the next request's first bytes; false when the connection is done.
// While it waits the listener may close it to admit a new client at the cap: the close runs on
// our strand, and only while we wait here (so `stream` is alive when it runs).
asio::awaitable<bool> await_next_request(beast::tcp_stream& stream, beast::flat_buffer& buf, app_context& app,
                                         const std::shared_ptr<bool>& idle) {
  stream.expires_after(app.opts.idle_timeout);
  *idle = true;
  auto slot = app.idle.add([ex = stream.get_executor(), idle, &stream] {
    asio::post(ex, [idle, &stream] {
      if (*idle) stream.cancel();
    });
  });
  auto [ec, n] = co_await stream.async_read_some(buf.prepare(8192), as_tuple_awaitable);
  *idle = false;
  app.idle.remove(slot);
  if (ec) co_return false;
  buf.commit(n);
  co_return true;
}

// What a request that could not be read is answered, if anything (a peer that went away is not).
std::optional<response> read_failure_reply(const boost::system::error_code& ec) {
  request dummy;
  dummy.version(11);
  dummy.keep_alive(false);
  if (ec == http::error::header_limit)
    return error_response(dummy, http::status::request_header_fields_too_large, "Request header fields too large");
  if (ec == http::error::body_limit) return error_response(dummy, http::status::payload_too_large, "Request body too large");
  if (ec != beast::error::timeout && ec != http::error::end_of_stream && ec != asio::error::eof &&
      ec != asio::error::connection_reset && ec != asio::error::operation_aborted)
    return error_response(dummy, http::status::bad_request, "Malformed request");
  return std::nullopt;
}

enum class upgrade_outcome { not_an_upgrade, refused, handed_over };

// A WebSocket upgrade of the events path: admitted (the session takes the stream) or refused.
asio::awaitable<upgrade_outcome> try_upgrade(beast::tcp_stream& stream, request& req, app_context& app) {
  if (!beast::websocket::is_upgrade(req)) co_return upgrade_outcome::not_an_upgrade;
  std::string path;
  bool ok = false;
  parse_target(req.target(), path, ok);
  if (!ok || path != events_path) co_return upgrade_outcome::not_an_upgrade;
  std::string subprotocol;
  if (auto refusal = admit_upgrade(req, app.opts, subprotocol)) {
    refusal->keep_alive(false);
    stream.expires_after(app.opts.request_timeout);
    co_await write_response(stream, *refusal);
    co_return upgrade_outcome::refused;
  }
  stream.expires_never();
  start_ws_session(std::move(stream), std::move(req), std::move(subprotocol), app);
  co_return upgrade_outcome::handed_over;
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
    if (buf.size() == 0 && !co_await await_next_request(stream, buf, app, idle)) break;
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
      if (auto reply = read_failure_reply(ec)) {
        reply->keep_alive(false);
        stream.expires_after(app.opts.request_timeout);
        co_await write_response(stream, *reply);
      }
      break;
    }
    request req = parser.release();
    auto upgrade = co_await try_upgrade(stream, req, app);
    if (upgrade == upgrade_outcome::handed_over) co_return;  // the stream is the WebSocket session's
    if (upgrade == upgrade_outcome::refused) break;
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
