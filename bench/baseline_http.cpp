// The REST baseline: a bare Beast HTTP server on one thread that answers every request with the
// same precomputed body. Same session shape as projcache (coroutine per connection, keep-alive),
// none of its work, so the ratio measures what projcache adds per request.
//   usage: baseline_http PORT BODY_FILE
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <iostream>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> session(asio::ip::tcp::socket s, const std::string& body) {
  beast::tcp_stream stream(std::move(s));
  beast::flat_buffer buf;
  for (;;) {
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(stream, buf, req, tuple_awaitable);
    if (ec) break;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = body;
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, res, tuple_awaitable);
    if (wec || !res.keep_alive()) break;
  }
}

asio::awaitable<void> listen(asio::ip::tcp::acceptor& acc, const std::string& body) {
  for (;;) {
    auto [ec, s] = co_await acc.async_accept(tuple_awaitable);
    if (ec) co_return;
    asio::co_spawn(acc.get_executor(), session(std::move(s), body), asio::detached);
  }
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: baseline_http PORT BODY_FILE\n";
    return 2;
  }
  std::ifstream in(argv[2], std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  asio::io_context ioc(1);
  asio::ip::tcp::acceptor acc(ioc, {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::atoi(argv[1]))});
  asio::co_spawn(ioc, listen(acc, body), asio::detached);
  std::cout << "ready " << acc.local_endpoint().port() << std::endl;
  ioc.run();
}
