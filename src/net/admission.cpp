#include "net/admission.hpp"

#include <boost/beast/core/string.hpp>
#include <vector>

#include "common/ascii.hpp"
#include "net/http_policy.hpp"
#include "net/responses.hpp"

namespace beast = boost::beast;

namespace projcache::net {

namespace {
std::optional<std::string_view> header(const request& req, std::string_view name) {
  auto it = req.find(name);
  if (it == req.end()) return std::nullopt;
  return it->value();
}

bool needs_key(std::string_view path) {
  return !(path == "/healthz" || path == "/readyz" || path == "/" || path.starts_with("/assets/"));
}

std::optional<response> refuse_host(const request& req, const options& o) {
  if (host_allowed(o, req[http::field::host])) return std::nullopt;
  return error_response(req, http::status::bad_request, "Invalid host header");
}

std::optional<response> refuse_key(const request& req, auth_result r) {
  if (r == auth_result::ok) return std::nullopt;
  if (r == auth_result::missing) {
    auto res = error_response(req, http::status::unauthorized, "API key required");
    res.set(http::field::www_authenticate, "ApiKey");
    return res;
  }
  return error_response(req, http::status::forbidden, "Invalid API key");
}

std::optional<response> refuse_origin(const request& req, const options& o) {
  if (page_origin_allowed(o, header(req, "Origin"), req[http::field::host])) return std::nullopt;
  return error_response(req, http::status::forbidden, "Origin not allowed");
}

std::optional<response> preflight(const request& req, const options& o) {
  auto origin = header(req, "Origin");
  if (req.method() != http::verb::options || !origin || !header(req, "Access-Control-Request-Method"))
    return std::nullopt;
  if (!origin_allowed(o, *origin))
    return text_response(req, http::status::bad_request, "Disallowed CORS origin", "text/plain; charset=utf-8");
  auto res = text_response(req, http::status::ok, "OK", "text/plain; charset=utf-8");
  res.set(http::field::access_control_allow_methods, "GET, POST, DELETE, OPTIONS");
  res.set(http::field::access_control_allow_headers,
          header(req, "Access-Control-Request-Headers").value_or("Content-Type, X-API-Key"));
  res.set(http::field::access_control_max_age, "600");
  return res;
}

// A state-changing request from a foreign page, or with a body that is not JSON, is refused
// before routing, key or no key: a page on any site can POST text/plain without a preflight.
std::optional<response> refuse_write(const request& req, const options& o) {
  auto m = req.method();
  if (m != http::verb::post && m != http::verb::put && m != http::verb::patch && m != http::verb::delete_)
    return std::nullopt;
  if (auto r = refuse_origin(req, o)) return r;
  if (!req.body().empty() && !is_json_content_type(header(req, "Content-Type")))
    return error_response(req, http::status::unsupported_media_type, "Content-Type must be application/json");
  return std::nullopt;
}
}  // namespace

bool expects_continue(const request& req) {
  auto e = header(req, "Expect");
  return req.version() == 11 && e && beast::iequals(*e, "100-continue");
}

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

std::optional<response> admit(const request& req, std::string_view path, const options& o) {
  if (auto r = refuse_host(req, o)) return r;
  if (auto r = preflight(req, o)) return r;
  if (needs_key(path))
    if (auto r = refuse_key(req, check_api_key(o, header(req, "X-API-Key")))) return r;
  return refuse_write(req, o);
}

std::optional<response> admit_upgrade(const request& req, const options& o, std::string& subprotocol) {
  if (auto r = refuse_host(req, o)) return r;
  // RFC 6455: the base64 of 16 random bytes. Beast answers 101 to any key.
  if (auto key = header(req, "Sec-WebSocket-Key"); !key || !valid_websocket_key(*key))
    return error_response(req, http::status::bad_request, "Invalid Sec-WebSocket-Key");
  if (auto r = refuse_origin(req, o)) return r;
  return refuse_key(req, check_api_key(o, header(req, "X-API-Key"), header(req, "Sec-WebSocket-Protocol"), &subprotocol));
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

}  // namespace projcache::net
