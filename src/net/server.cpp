#include "net/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include "net/app_context.hpp"
#include "net/handlers.hpp"
#include "net/listener.hpp"
#include "net/ws_session.hpp"

namespace asio = boost::asio;

namespace projcache::net {

server::server(asio::io_context& ioc, app_context& app) : ioc_(ioc), app_(app), acceptor_(ioc) {
  register_cache_routes(app_.routes);
  register_misc_routes(app_.routes);
  register_project_routes(app_.routes);
}

std::uint16_t server::listen() {
  auto addr = asio::ip::make_address(app_.opts.host);
  asio::ip::tcp::endpoint ep(addr, app_.opts.port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(ioc_, accept_loop(acceptor_, app_), asio::detached);
  return acceptor_.local_endpoint().port();
}

void server::stop() {
  app_.stopping = true;
  asio::post(ioc_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  close_all_ws_sessions(app_);
}

}  // namespace projcache::net
