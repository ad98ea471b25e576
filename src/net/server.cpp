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

asio::ip::tcp::acceptor bind_acceptor(asio::io_context& ioc, const std::string& host, std::uint16_t port,
                                      boost::system::error_code& ec) {
  asio::ip::tcp::acceptor a(ioc);
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return a;
  asio::ip::tcp::endpoint ep(addr, port);
  boost::system::error_code ignored;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ignored);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) a.close(ignored);
  return a;
}

std::uint16_t server::listen(asio::ip::tcp::acceptor bound) {
  acceptor_ = std::move(bound);
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
