#pragma once
// The HTTP/WebSocket server: binds, accepts, and stops gracefully.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>

namespace projcache::net {

struct app_context;

class server {
 public:
  server(boost::asio::io_context& ioc, app_context& app);
  // Binds host:port (0: an ephemeral port) and starts accepting; returns the bound port.
  // Throws boost::system::system_error when the address cannot be bound.
  std::uint16_t listen();
  // Stops accepting, asks WebSocket clients to leave (1001); in-flight requests finish.
  void stop();

 private:
  boost::asio::io_context& ioc_;
  app_context& app_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace projcache::net
