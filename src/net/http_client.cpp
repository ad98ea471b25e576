#include "net/http_client.hpp"

#include <vector>
#include <memory>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace projcache::net {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// One deadline for the whole exchange. Whatever is in flight registers how to cancel it; the
// timer and the coroutine share one strand, so neither races the other.
struct deadline {
  explicit deadline(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  std::function<void()> cancel;
  bool expired = false;
};

// Registers a cancel action for as long as the objects it touches live.
class cancel_scope {
 public:
  cancel_scope(deadline& d, std::function<void()> f) : d_(d) { d_.cancel = std::move(f); }
  ~cancel_scope() { d_.cancel = nullptr; }
  cancel_scope(const cancel_scope&) = delete;
  cancel_scope& operator=(const cancel_scope&) = delete;

 private:
  deadline& d_;
};

struct response {
  std::optional<std::string> error;
  unsigned status = 0;
  std::string body, location;
};

response refused(std::string why) {
  response r;
  r.error = std::move(why);
  return r;
}

response failed(const deadline& d, const std::string& what, const error_code& ec) {
  return refused(what + (d.expired ? std::string(" (no answer in time)") : " (" + ec.message() + ")"));
}

// Feeds what has arrived to the parser; an error when the bytes are not a response we take.
std::optional<std::string> parse_some(http::response_parser<http::string_body>& p, std::string& pending,
                                      std::size_t max_body) {
  while (!pending.empty() && !p.is_done()) {
    error_code ec;
    auto used = p.put(asio::buffer(pending), ec);
    pending.erase(0, used);
    if (ec == http::error::need_more) return std::nullopt;
    if (ec == http::error::body_limit)
      return "the response is larger than " + std::to_string(max_body >> 20) + " MiB";
    if (ec) return "the response is not valid HTTP (" + ec.message() + ")";
    if (used == 0) return std::nullopt;
  }
  return std::nullopt;
}

// Writes the request and reads one response. Only read_some and write touch the stream, so the
// two stream types instantiate little.
template <class Stream>
asio::awaitable<response> exchange(Stream& stream, const std::string& request, std::size_t max_body,
                                   const deadline& d) {
  auto [wec, written] = co_await asio::async_write(stream, asio::buffer(request), use_tuple);
  if (wec) co_return failed(d, "sending the request failed", wec);
  http::response_parser<http::string_body> p;
  p.body_limit(max_body);
  p.eager(true);
  std::string pending;
  std::vector<char> chunk(16 * 1024);
  while (!p.is_done()) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(chunk), use_tuple);
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
      error_code eof_ec;
      p.put_eof(eof_ec);
      if (eof_ec) co_return refused("the connection closed before the response was complete");
      break;
    }
    if (ec) co_return failed(d, "reading the response failed", ec);
    pending.append(chunk.data(), n);
    if (auto why = parse_some(p, pending, max_body)) co_return refused(std::move(*why));
  }
  auto& res = p.get();
  response r;
  r.status = res.result_int();
  r.body = std::move(res.body());
  r.location = std::string(res[http::field::location]);
  co_return r;
}

std::string request_for(const urls::url_view& u, const http_call& c) {
  std::string target(u.encoded_target());
  if (target.empty()) target = "/";
  std::string r = c.method + " " + target + " HTTP/1.1\r\nHost: " + std::string(u.encoded_host_and_port()) +
                  "\r\nUser-Agent: projcache/" PROJCACHE_VERSION "\r\nAccept: application/json\r\nConnection: close\r\n";
  for (auto& [name, value] : c.headers) r += name + ": " + value + "\r\n";
  if (c.method != "GET")
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(c.body.size()) + "\r\n";
  return r + "\r\n" + c.body;
}

// The TLS leg over a connected socket: verified by the system CA store and the host name.
asio::awaitable<response> exchange_tls(tcp::socket socket, const std::string& host, const std::string& request,
                                       std::size_t max_body, deadline& d) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_default_verify_paths();
  ctx->set_verify_mode(asio::ssl::verify_peer);
  auto stream = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(socket), *ctx);
  cancel_scope scope(d, [s = stream.get()] { s->lowest_layer().close(); });
  if (!SSL_set_tlsext_host_name(stream->native_handle(), host.c_str()))
    co_return refused("cannot set the TLS server name " + host);
  stream->set_verify_callback(asio::ssl::host_name_verification(host));
  auto [ec] = co_await stream->async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (ec) co_return failed(d, "TLS handshake with " + host + " failed", ec);
  co_return co_await exchange(*stream, request, max_body, d);
}

asio::awaitable<response> call_once(const urls::url_view& u, const http_call& c, deadline& d) {
  auto ex = co_await asio::this_coro::executor;
  std::string host(u.host_address());
  bool tls = u.scheme() == "https";
  std::string port = u.has_port() ? std::string(u.port()) : (tls ? "443" : "80");
  tcp::socket socket(ex);
  {
    tcp::resolver resolver(ex);
    cancel_scope scope(d, [&resolver] { resolver.cancel(); });
    auto [ec, endpoints] = co_await resolver.async_resolve(host, port, use_tuple);
    if (ec) co_return failed(d, "cannot resolve " + host, ec);
    cancel_scope connecting(d, [&socket] { socket.close(); });
    auto [cec, endpoint] = co_await asio::async_connect(socket, endpoints, use_tuple);
    if (cec) co_return failed(d, "cannot connect to " + host + ":" + port, cec);
  }
  if (tls) co_return co_await exchange_tls(std::move(socket), host, request_for(u, c), c.limits.max_body, d);
  cancel_scope scope(d, [&socket] { socket.close(); });
  co_return co_await exchange(socket, request_for(u, c), c.limits.max_body, d);
}

// Follows a few redirects, never from https down to http.
asio::awaitable<response> follow(std::string url, const http_get_limits& limits, deadline& d) {
  for (int hop = 0; hop <= limits.max_redirects; ++hop) {
    auto parsed = urls::parse_uri(url);
    if (!parsed) co_return refused("invalid URL " + url);
    auto scheme = parsed->scheme();
    if (scheme != "http" && scheme != "https") co_return refused("unsupported URL scheme " + std::string(scheme));
    http_call get;
    get.limits = limits;
    auto r = co_await call_once(*parsed, get, d);
    if (r.error || r.status < 300 || r.status >= 400 || r.location.empty()) {
      if (!r.error && r.status != 200) r.error = "the server answered HTTP " + std::to_string(r.status);
      co_return r;
    }
    auto next = urls::parse_uri_reference(r.location);
    if (!next) co_return refused("invalid redirect location " + r.location);
    urls::url resolved;
    urls::resolve(*parsed, *next, resolved);
    if (scheme == "https" && resolved.scheme() != "https")
      co_return refused("refusing a redirect from https to " + std::string(resolved.scheme()));
    url = std::string(resolved.buffer());
  }
  co_return refused("too many redirects");
}

// Shared with the timer's handler, which may run after the coroutine's frame is gone.
std::shared_ptr<deadline> start_deadline(const asio::any_io_executor& ex, std::chrono::milliseconds timeout) {
  auto d = std::make_shared<deadline>(ex);
  d->timer.expires_after(timeout);
  d->timer.async_wait([d](error_code ec) {
    if (ec) return;
    d->expired = true;
    if (d->cancel) d->cancel();
  });
  return d;
}

asio::awaitable<response> get_within(std::string url, http_get_limits limits) {
  auto d = start_deadline(co_await asio::this_coro::executor, limits.timeout);
  auto r = co_await follow(std::move(url), limits, *d);
  d->timer.cancel();
  co_return r;
}

asio::awaitable<response> call_within(http_call c) {
  auto d = start_deadline(co_await asio::this_coro::executor, c.limits.timeout);
  auto parsed = urls::parse_uri(c.url);
  // No co_await inside a conditional expression: GCC 12 miscompiles it (a double free).
  response r;
  if (parsed && (parsed->scheme() == "http" || parsed->scheme() == "https"))
    r = co_await call_once(*parsed, c, *d);
  else
    r = refused("invalid URL " + c.url);
  d->timer.cancel();
  co_return r;
}
}  // namespace

void http_get(asio::io_context& ioc, std::string url, http_get_done done, http_get_limits limits) {
  asio::co_spawn(asio::make_strand(ioc), get_within(std::move(url), limits),
                 [done = std::move(done)](std::exception_ptr ep, response r) {
                   if (ep) return done(std::string("the request failed unexpectedly"), {});
                   if (r.error) return done(std::move(r.error), {});
                   done(std::nullopt, std::move(r.body));
                 });
}

void http_request(asio::io_context& ioc, http_call call, http_call_done done) {
  asio::co_spawn(asio::make_strand(ioc), call_within(std::move(call)),
                 [done = std::move(done)](std::exception_ptr ep, response r) {
                   if (ep) return done(std::string("the request failed unexpectedly"), {});
                   if (r.error) return done(std::move(r.error), {});
                   done(std::nullopt, http_reply{r.status, std::move(r.body)});
                 });
}

}  // namespace projcache::net
