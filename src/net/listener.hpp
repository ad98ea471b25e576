#pragma once
// Accepts connections, each onto its own strand, up to max_connections; beyond that a new
// connection gets a 503 and is closed, and the existing ones are unaffected.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace projcache::net {

struct app_context;

boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acceptor, app_context& app);

}  // namespace projcache::net
