#pragma once
// A small HTTP(S) GET client, for the marketplace listings (contract section 5). It lives in net/,
// outside the cache layer: the cache asks for a body through a plain function (cache/fetcher.hpp)
// and app/ wires that function to this client.
//
// Deliberately light to compile: one coroutine over a plain socket or an SSL stream, whose only
// stream-templated operations are read_some and write; the response is parsed by Beast's parser
// from a buffer. (Beast's stream-templated http::async_read over an SSL stream, in a coroutine,
// cost about three minutes of one core in the sanitized build.)
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace projcache::net {

struct http_get_limits {
  // For the whole exchange, redirects included.
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  std::size_t max_body = 16 * 1024 * 1024;
  int max_redirects = 3;
};

// error is empty on success (status 200), else one line saying what failed, without library
// internals: "cannot connect to example.com:443 (Connection refused)", "marketplace answered
// HTTP 503", ...
using http_get_done = std::function<void(std::optional<std::string> error, std::string body)>;

// GETs url (http or https). TLS peers are verified against the system CA store (SSL_CERT_FILE
// and SSL_CERT_DIR are honoured) and by host name. Redirects are followed, never from https down
// to http. done runs once, on one of ioc's threads.
void http_get(boost::asio::io_context& ioc, std::string url, http_get_done done, http_get_limits limits = {});

// One request answered as it came, whatever its status (no redirects): what a CLI command sends
// to a running server's API. A body is sent as application/json.
struct http_call {
  std::string method = "GET", url, body;
  std::vector<std::pair<std::string, std::string>> headers;
  http_get_limits limits;
};
struct http_reply {
  unsigned status = 0;
  std::string body;
};
// error is set only when no HTTP answer came (one line, as above).
using http_call_done = std::function<void(std::optional<std::string> error, http_reply reply)>;
void http_request(boost::asio::io_context& ioc, http_call call, http_call_done done);

}  // namespace projcache::net
