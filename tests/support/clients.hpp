#pragma once
// Small blocking HTTP and WebSocket clients for black-box tests (Boost.Beast), every read
// bounded by a timeout. No Beast header here: every black-box test includes this, and Beast's
// WebSocket headers alone cost seconds per file in the sanitized build (clients.cpp pays once).
#include <boost/json/value.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace projcache::test {

struct http_reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  boost::json::value json() const;
  std::string header(const std::string& lower_name) const;
};

using header_map = std::map<std::string, std::string>;

http_reply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                        const std::string& body = "", const header_map& headers = {});
inline http_reply http_get(std::uint16_t port, const std::string& target, const header_map& h = {}) {
  return http_request(port, "GET", target, "", h);
}
inline http_reply http_post(std::uint16_t port, const std::string& target, const std::string& body,
                            const header_map& h = {}) {
  return http_request(port, "POST", target, body, h);
}
// Sends raw bytes and returns whatever the server answers until it closes or timeout passes.
std::string raw_exchange(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds timeout);
std::string url_encode(const std::string& s);

class ws_client {
 public:
  // Connects and upgrades; throws boost::system::system_error when the server refuses (the
  // HTTP status is then in refused_status()).
  ws_client(std::uint16_t port, const header_map& headers = {}, const std::string& subprotocol = "");
  ~ws_client();
  void send(const std::string& text);
  void send_binary(const std::string& data);
  // The next text message, or nothing at timeout.
  std::optional<std::string> read(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  boost::json::value read_json(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  // Reads until the server closes: its close code (0 when it did not within the timeout).
  int read_until_close(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  std::string selected_subprotocol() const { return subprotocol_; }
  // Below the WebSocket layer, for tests of a misbehaving client: bytes written as they are
  // (hand-made frames), and the socket's receive buffer (a client that reads slowly).
  void write_raw(const std::string& bytes);
  void set_receive_buffer(int bytes);
  // For drain_to_close_code: the socket's descriptor.
  int native_socket();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::string subprotocol_;
};

// The HTTP status a refused upgrade answered (0 when it was accepted).
int ws_refusal_status(std::uint16_t port, const header_map& headers, const std::string& subprotocol = "");
// For a client that stopped reading: reads the socket in bulk (not message by message, which a
// sanitized build under load does slower than a server's grace period) until the server closes
// it, and returns the code of the close frame found in what arrived; 0 when there was none.
int drain_to_close_code(ws_client& c, std::chrono::milliseconds timeout);

}  // namespace projcache::test
