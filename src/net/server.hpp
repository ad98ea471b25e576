#pragma once
// The HTTP/WebSocket server: binds, accepts, and stops gracefully.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>

namespace projcache::net {

struct app_context;

// Binds host:port (0: an ephemeral port) and listens. Done before anything else at start, so a
// start that cannot serve has created nothing; ec says why not (address in use, ...).
boost::asio::ip::tcp::acceptor bind_acceptor(boost::asio::io_context& ioc, const std::string& host, std::uint16_t port,
                                             boost::system::error_code& ec);

class server {
 public:
  server(boost::asio::io_context& ioc, app_context& app);
  // Starts accepting on an acceptor from bind_acceptor(); returns its port.
  std::uint16_t listen(boost::asio::ip::tcp::acceptor bound);
  // Stops accepting, asks WebSocket clients to leave (1001); in-flight requests finish.
  void stop();

 private:
  boost::asio::io_context& ioc_;
  app_context& app_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace projcache::net
