#pragma once
// A WebSocket subscriber of the event bus (contract section 7).
#include <boost/beast/core/tcp_stream.hpp>
#include <string>

#include "net/router.hpp"

namespace projcache::net {

struct app_context;

// Takes over an upgraded connection: accepts the handshake (echoing the selected subprotocol)
// and serves the subscription until either side closes.
void start_ws_session(boost::beast::tcp_stream stream, request req, std::string subprotocol, app_context& app);
// Asks every live session to close with 1001 (server going away).
void close_all_ws_sessions(app_context& app);

}  // namespace projcache::net
