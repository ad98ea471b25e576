#pragma once
// The rules a localhost service applies before routing: Host (DNS rebinding), CORS origins,
// and the API key (compared in constant time, never logged).
#include <optional>
#include <string>
#include <string_view>

#include "net/options.hpp"

namespace projcache::net {

bool host_allowed(const options& o, std::string_view host_header);
bool origin_allowed(const options& o, std::string_view origin);
// A page served by projcache itself (the dashboard) connects from its own origin.
bool same_origin(std::string_view origin, std::string_view host_header);
// The pages that may open the event stream or change state: a CORS origin, our own origin (the
// dashboard), or any loopback origin. A request without Origin (curl, a server) is no page.
bool page_origin_allowed(const options& o, std::optional<std::string_view> origin, std::string_view host_header);
// A state-changing body must be JSON: text/plain and form bodies are what a foreign page can
// send without a CORS preflight.
bool is_json_content_type(std::optional<std::string_view> content_type);

enum class auth_result { ok, missing, invalid };
// key_header: X-API-Key; subprotocols: Sec-WebSocket-Protocol (may carry "apikey.<key>").
// selected receives the subprotocol to echo when the key came that way.
auth_result check_api_key(const options& o, std::optional<std::string_view> key_header,
                          std::optional<std::string_view> subprotocols = std::nullopt,
                          std::string* selected = nullptr);
bool constant_time_equal(std::string_view a, std::string_view b);
// Sec-WebSocket-Key: the base64 of 16 bytes (RFC 6455 4.1).
bool valid_websocket_key(std::string_view key);

}  // namespace projcache::net
