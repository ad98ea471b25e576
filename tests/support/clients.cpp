#include "support/clients.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <array>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace projcache::test {

boost::json::value http_reply::json() const { return boost::json::parse(body); }

std::string http_reply::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

http_reply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                        const std::string& body, const header_map& headers) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (auto& [k, v] : headers) req.set(k, v);
  if (!body.empty() || method == "POST") {
    req.body() = body;
    if (!headers.count("Content-Type")) req.set(http::field::content_type, "application/json");
    req.prepare_payload();
  }
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (method == "HEAD") parser.skip(true);
  http::read(stream, buf, parser);
  auto& res = parser.get();
  http_reply r;
  r.status = res.result_int();
  r.body = res.body();
  for (auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(f.value());
  }
  return r;
}

std::string raw_exchange(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  tcp::socket sock(ioc);
  sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(sock, asio::buffer(bytes));
  std::string out;
  std::array<char, 4096> chunk;
  std::function<void()> read_more = [&] {
    sock.async_read_some(asio::buffer(chunk), [&](boost::system::error_code ec, std::size_t n) {
      out.append(chunk.data(), n);
      if (!ec) read_more();
    });
  };
  read_more();
  ioc.run_for(timeout);
  return out;
}

struct ws_client::impl {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buf;
};

ws_client::ws_client(std::uint16_t port, const header_map& headers, const std::string& subprotocol)
    : impl_(std::make_unique<impl>()) {
  auto& ws = impl_->ws;
  beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  beast::get_lowest_layer(ws).expires_never();
  ws.set_option(websocket::stream_base::decorator([headers, subprotocol](websocket::request_type& req) {
    for (auto& [k, v] : headers) req.set(k, v);
    if (!subprotocol.empty()) req.set(http::field::sec_websocket_protocol, subprotocol);
  }));
  websocket::response_type res;
  ws.handshake(res, "127.0.0.1:" + std::to_string(port), "/api/v1/cache/events");
  subprotocol_ = std::string(res[http::field::sec_websocket_protocol]);
  ws.read_message_max(0);
}

ws_client::~ws_client() = default;

void ws_client::write_raw(const std::string& bytes) { asio::write(impl_->ws.next_layer().socket(), asio::buffer(bytes)); }

void ws_client::set_receive_buffer(int bytes) {
  impl_->ws.next_layer().socket().set_option(asio::socket_base::receive_buffer_size(bytes));
}

int ws_client::native_socket() { return impl_->ws.next_layer().socket().native_handle(); }

void ws_client::send(const std::string& text) {
  impl_->ws.text(true);
  impl_->ws.write(asio::buffer(text));
}

void ws_client::send_binary(const std::string& data) {
  impl_->ws.binary(true);
  impl_->ws.write(asio::buffer(data));
}

std::optional<std::string> ws_client::read(std::chrono::milliseconds timeout) {
  std::optional<std::string> out;
  bool done = false;
  impl_->buf.consume(impl_->buf.size());
  impl_->ws.async_read(impl_->buf, [&](boost::system::error_code ec, std::size_t) {
    done = true;
    if (!ec) out = beast::buffers_to_string(impl_->buf.data());
  });
  impl_->ioc.restart();
  impl_->ioc.run_for(timeout);
  if (!done) {
    beast::get_lowest_layer(impl_->ws).cancel();
    impl_->ioc.restart();
    impl_->ioc.run_for(std::chrono::milliseconds(500));
  }
  return out;
}

boost::json::value ws_client::read_json(std::chrono::milliseconds timeout) {
  auto m = read(timeout);
  if (!m) throw std::runtime_error("no websocket message within the timeout");
  return boost::json::parse(*m);
}

int ws_client::read_until_close(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return 0;
    bool done = false;
    boost::system::error_code err;
    impl_->buf.consume(impl_->buf.size());
    impl_->ws.async_read(impl_->buf, [&](boost::system::error_code ec, std::size_t) {
      done = true;
      err = ec;
    });
    impl_->ioc.restart();
    impl_->ioc.run_for(left);
    if (!done) return 0;
    if (err == websocket::error::closed) return impl_->ws.reason().code;
    // A server that fails the connection (1009, 1008) may close TCP right after its close
    // frame, so our reply can fail: the code it sent is what counts.
    if (err && impl_->ws.reason().code != 0) return impl_->ws.reason().code;
    if (err) return -1;  // dropped without a close frame
  }
}

int drain_to_close_code(ws_client& c, std::chrono::milliseconds timeout) {
  int fd = c.native_socket();
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string bytes;
  std::array<char, 65536> buf;
  for (;;) {
    auto n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    bytes.append(buf.data(), static_cast<std::size_t>(n));
  }
  // Server frames are unmasked: opcode, length (7, 16 or 64 bits), payload.
  for (std::size_t i = 0; i + 2 <= bytes.size();) {
    auto op = static_cast<unsigned char>(bytes[i]) & 0x0F;
    std::uint64_t len = static_cast<unsigned char>(bytes[i + 1]) & 0x7F;
    std::size_t at = i + 2;
    std::size_t ext = len == 126 ? 2 : len == 127 ? 8 : 0;
    if (at + ext > bytes.size()) break;
    if (ext) {
      len = 0;
      for (std::size_t k = 0; k < ext; ++k) len = (len << 8) | static_cast<unsigned char>(bytes[at + k]);
      at += ext;
    }
    if (at + len > bytes.size()) break;
    if (op == 8 && len >= 2) return (static_cast<unsigned char>(bytes[at]) << 8) | static_cast<unsigned char>(bytes[at + 1]);
    i = at + len;
  }
  return 0;
}

int ws_refusal_status(std::uint16_t port, const header_map& headers, const std::string& subprotocol) {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  ws.set_option(websocket::stream_base::decorator([headers, subprotocol](websocket::request_type& req) {
    for (auto& [k, v] : headers) req.set(k, v);
    if (!subprotocol.empty()) req.set(http::field::sec_websocket_protocol, subprotocol);
  }));
  websocket::response_type res;
  boost::system::error_code ec;
  ws.handshake(res, "127.0.0.1:" + std::to_string(port), "/api/v1/cache/events", ec);
  return ec ? res.result_int() : 0;
}

}  // namespace projcache::test
