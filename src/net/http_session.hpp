#pragma once
// One HTTP connection as a coroutine: read -> route -> write, keep-alive, pipelining safe.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "net/router.hpp"

namespace projcache::net {

struct app_context;

boost::asio::awaitable<void> run_http_session(boost::asio::ip::tcp::socket socket, app_context& app);

}  // namespace projcache::net
