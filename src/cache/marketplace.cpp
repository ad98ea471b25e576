#include "cache/marketplace.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <boost/log/trivial.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "cache/manager.hpp"
#include "events/bus.hpp"
#include "common/json_text.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace projcache::cache {

namespace {
constexpr micros ttl_us = 24LL * 3600 * 1000000;
constexpr auto fetch_timeout = std::chrono::seconds(30);
constexpr std::size_t max_body = 16 * 1024 * 1024;
constexpr int max_redirects = 3;

std::optional<std::string> text_of(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (it->value().is_string()) return std::string(it->value().as_string());
  return to_json_text(it->value());
}

struct response {
  unsigned status = 0;
  std::string body, location;
};

template <class Stream>
asio::awaitable<response> exchange(Stream& stream, const std::string& host, const std::string& target) {
  http::request<http::empty_body> req{http::verb::get, target.empty() ? "/" : target, 11};
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "projcache");
  req.set(http::field::accept, "application/json");
  co_await http::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body);
  co_await http::async_read(stream, buf, parser, asio::use_awaitable);
  auto& res = parser.get();
  response r{res.result_int(), std::move(res.body()), std::string(res[http::field::location])};
  co_return r;
}

asio::awaitable<response> get_once(const boost::urls::url_view& u) {
  auto ex = co_await asio::this_coro::executor;
  std::string host(u.host());
  bool tls = u.scheme() == "https";
  std::string port = u.has_port() ? std::string(u.port()) : (tls ? "443" : "80");
  std::string target(u.encoded_target());
  asio::ip::tcp::resolver resolver(ex);
  auto endpoints = co_await resolver.async_resolve(host, port, asio::use_awaitable);
  if (!tls) {
    beast::tcp_stream stream(ex);
    stream.expires_after(fetch_timeout);
    co_await stream.async_connect(endpoints, asio::use_awaitable);
    co_return co_await exchange(stream, host, target);
  }
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_default_verify_paths();  // the system CA store (SSL_CERT_FILE honoured)
  ctx.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ex, ctx);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()))
    throw std::runtime_error("cannot set TLS server name");
  stream.set_verify_callback(asio::ssl::host_name_verification(host));
  beast::get_lowest_layer(stream).expires_after(fetch_timeout);
  co_await beast::get_lowest_layer(stream).async_connect(endpoints, asio::use_awaitable);
  co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
  co_return co_await exchange(stream, host, target);
}

// Follows a few redirects, never from https down to http.
asio::awaitable<std::string> fetch(std::string url) {
  for (int hop = 0; hop <= max_redirects; ++hop) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) throw std::runtime_error("invalid marketplace URL: " + url);
    auto scheme = parsed->scheme();
    if (scheme != "http" && scheme != "https") throw std::runtime_error("unsupported URL scheme: " + std::string(scheme));
    auto r = co_await get_once(*parsed);
    if (r.status >= 300 && r.status < 400 && !r.location.empty()) {
      auto next = boost::urls::parse_uri_reference(r.location);
      if (!next) throw std::runtime_error("invalid redirect location");
      boost::urls::url resolved;
      boost::urls::resolve(*parsed, *next, resolved);
      if (scheme == "https" && resolved.scheme() != "https")
        throw std::runtime_error("refusing redirect from https to " + std::string(resolved.scheme()));
      url = std::string(resolved.buffer());
      continue;
    }
    if (r.status != 200) throw std::runtime_error("marketplace answered HTTP " + std::to_string(r.status));
    co_return r.body;
  }
  throw std::runtime_error("too many redirects");
}
}  // namespace

std::optional<std::vector<db::marketplace_row>> parse_listings(const std::string& body, micros now,
                                                               std::string& error) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec) {
    error = "marketplace response is not JSON: " + ec.message();
    return std::nullopt;
  }
  const json::array* list = doc.if_array();
  if (!list && doc.is_object()) {
    for (auto key : {"listings", "items", "data"})
      if (auto it = doc.as_object().find(key); it != doc.as_object().end() && it->value().is_array()) {
        list = &it->value().as_array();
        break;
      }
  }
  if (!list) {
    error = "marketplace response holds no list of listings";
    return std::nullopt;
  }
  std::vector<db::marketplace_row> rows;
  for (auto& v : *list) {
    if (!v.is_object()) continue;
    const auto& o = v.as_object();
    auto id = text_of(o, "listing_id");
    auto name = text_of(o, "name");
    auto url = text_of(o, "source_url");
    if (!id || !name || !url) continue;  // not a listing: skipped, the others kept
    db::marketplace_row r;
    r.id = *id;
    r.name = *name;
    r.type = "skill";
    r.url = *url;
    r.description = text_of(o, "description");
    r.cached_at = now;
    json::object data;
    for (auto& kv : o)
      if (kv.key() != "listing_id" && kv.key() != "name" && kv.key() != "source_url" && kv.key() != "description")
        data[kv.key()] = kv.value();
    r.data = to_json_text(data);
    rows.push_back(std::move(r));
  }
  return rows;
}

marketplace_fetcher::marketplace_fetcher(asio::io_context& ioc, manager& m, strand_type& write_strand,
                                         events::bus& bus)
    : ioc_(ioc), mgr_(m), write_strand_(write_strand), bus_(bus), timer_(ioc) {}

void marketplace_fetcher::start() {
  if (!mgr_.config().marketplace_url) return;
  auto age = mgr_.marketplace_age();
  if (!age || now_micros() - *age > ttl_us) fetch_now(nullptr);
  schedule();
}

void marketplace_fetcher::stop() {
  stopped_ = true;
  timer_.cancel();
}

void marketplace_fetcher::schedule() {
  timer_.expires_after(std::chrono::hours(1));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    auto age = mgr_.marketplace_age();
    if (!age || now_micros() - *age > ttl_us) fetch_now(nullptr);
    schedule();
  });
}

void marketplace_fetcher::fetch_now(done_fn done) {
  auto url = mgr_.config().marketplace_url;
  if (!url) {
    if (done) done(std::string("no marketplace_url configured"));
    return;
  }
  asio::co_spawn(ioc_, fetch(*url), [this, done](std::exception_ptr ep, std::string body) {
    asio::post(write_strand_, [this, done, ep, body = std::move(body)] { store(ep, body, done); });
  });
}

void marketplace_fetcher::store(std::exception_ptr ep, const std::string& body, const done_fn& done) {
  {
    std::optional<std::string> error;
    if (ep) {
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        error = std::string("marketplace fetch failed: ") + e.what();
      }
    } else {
      std::string why;
      micros now = now_micros();
      if (auto rows = parse_listings(body, now, why)) {
        try {
          mgr_.replace_marketplace(*rows, now - ttl_us);
        } catch (const std::exception& e) {
          error = std::string("marketplace store failed: ") + e.what();
        }
      } else {
        error = why;
      }
    }
    if (error) {
      BOOST_LOG_TRIVIAL(warning) << *error << " (old entries kept)";
      bus_.publish(events::source_error("marketplace", *error));
    }
    if (done) done(error);
  }
}

}  // namespace projcache::cache
