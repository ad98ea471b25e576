#pragma once
// One HTTP connection as a coroutine: read -> route -> write, keep-alive, pipelining safe.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "net/router.hpp"

namespace projcache::net {

struct app_context;

boost::asio::awaitable<void> run_http_session(boost::asio::ip::tcp::socket socket, app_context& app);
// The request pipeline without the socket: Host, CORS, auth, routing, handler, ETag.
boost::asio::awaitable<response> dispatch(const request& req, app_context& app);

}  // namespace projcache::net
