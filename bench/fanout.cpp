// Fan-out load: CLIENTS WebSocket subscribers on one io_context. Prints "ready" once all are
// subscribed, waits for a line on stdin, asks the server to publish N messages, and prints one
// JSON line: deliveries, seconds from the publish request to the last delivery, deliveries/s.
//   usage: fanout PORT CLIENTS N SIZE [--projcache]
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <iostream>
#include <memory>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

struct state {
  long expected = 0;
  long clients_done = 0, deliveries = 0, subscribed = 0;
  std::chrono::steady_clock::time_point t0, last;
};

asio::awaitable<void> subscriber(unsigned short port, bool projcache, state& st, long clients) {
  auto ex = co_await asio::this_coro::executor;
  websocket::stream<beast::tcp_stream> ws(ex);
  co_await beast::get_lowest_layer(ws).async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
  co_await ws.async_handshake("127.0.0.1:" + std::to_string(port), "/api/v1/cache/events", asio::use_awaitable);
  beast::flat_buffer buf;
  if (projcache) {
    ws.text(true);
    co_await ws.async_write(asio::buffer(std::string(R"({"op":"subscribe"})")), asio::use_awaitable);
    co_await ws.async_read(buf, asio::use_awaitable);
    buf.consume(buf.size());
  }
  ++st.subscribed;
  long got = 0;
  while (got < st.expected || st.expected == 0) {
    auto [ec, n] = co_await ws.async_read(buf, tuple_awaitable);
    if (ec) break;
    buf.consume(buf.size());
    ++got;
    ++st.deliveries;
    if (got == st.expected) {
      st.last = std::chrono::steady_clock::now();
      if (++st.clients_done == clients) co_return;
    }
  }
}

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: fanout PORT CLIENTS N SIZE [--projcache]\n";
    return 2;
  }
  auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  long clients = std::atol(argv[2]), n = std::atol(argv[3]), size = std::atol(argv[4]);
  bool projcache = argc > 5 && std::string(argv[5]) == "--projcache";
  asio::io_context ioc(1);
  state st;
  st.expected = n;
  for (long i = 0; i < clients; ++i) asio::co_spawn(ioc, subscriber(port, projcache, st, clients), asio::detached);
  while (st.subscribed < clients) ioc.run_one();
  std::cout << "ready" << std::endl;
  std::string line;
  std::getline(std::cin, line);
  st.t0 = std::chrono::steady_clock::now();
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    beast::tcp_stream s(co_await asio::this_coro::executor);
    co_await s.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
    std::string target = (projcache ? "/api/v1/bench/publish" : "/publish") + std::string("?n=") + std::to_string(n) +
                         "&size=" + std::to_string(size);
    http::request<http::empty_body> req{http::verb::post, target, 11};
    req.set(http::field::host, "127.0.0.1");
    co_await http::async_write(s, req, asio::use_awaitable);
    beast::flat_buffer b;
    http::response<http::string_body> res;
    co_await http::async_read(s, b, res, asio::use_awaitable);
  }, asio::detached);
  ioc.run();
  double secs = std::chrono::duration<double>(st.last - st.t0).count();
  std::cout << "{\"clients\":" << clients << ",\"deliveries\":" << st.deliveries << ",\"seconds\":" << secs
            << ",\"per_second\":" << (secs > 0 ? static_cast<double>(st.deliveries) / secs : 0) << "}" << std::endl;
}
