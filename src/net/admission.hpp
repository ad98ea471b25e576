#pragma once
// What a request must pass before it is routed, for plain requests and WebSocket upgrades alike,
// so the two cannot drift apart: framing (RFC 9112), Host (DNS rebinding), CORS preflight,
// Origin and content type of writes, and the API key. Each returns the answer that ends the
// request there, or nothing when it may go on.
#include <optional>
#include <string>
#include <string_view>

#include "net/options.hpp"
#include "net/router.hpp"

namespace projcache::net {

// One Host, transfer codings we can read, Expect we understand. Beast reads these leniently.
std::optional<response> refuse_framing(const request& req);
// HTTP/1.1 with "Expect: 100-continue": the client waits for "100 Continue" before its body.
bool expects_continue(const request& req);
// Host, CORS preflight (answered here), API key (where `path` needs one), cross-site writes.
std::optional<response> admit(const request& req, std::string_view path, const options& o);
// The upgrade to /cache/events: Host, Sec-WebSocket-Key, Origin, API key (header or the
// "apikey.<key>" subprotocol; `subprotocol` receives the one to echo).
std::optional<response> admit_upgrade(const request& req, const options& o, std::string& subprotocol);
// CORS headers on an answer to an allowed origin.
void add_cors(response& res, const request& req, const options& o);

}  // namespace projcache::net
