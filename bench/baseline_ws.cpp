// The fan-out baseline: a bare Beast WebSocket broadcast server on one thread, the shape of
// Beast's chat-multi example (a session per client with its own queue, each message serialized
// once and shared). POST /publish?n=N&size=S sends N messages of S bytes to every client.
//   usage: baseline_ws PORT
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <iostream>
#include <memory>
#include <set>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

class session;
std::set<session*> sessions;

class session : public std::enable_shared_from_this<session> {
 public:
  explicit session(beast::tcp_stream s) : ws_(std::move(s)), wake_(ws_.get_executor()) {}
  asio::awaitable<void> run(http::request<http::string_body> req) {
    auto self = shared_from_this();
    auto [ec] = co_await ws_.async_accept(req, tuple_awaitable);
    if (ec) co_return;
    sessions.insert(this);
    asio::co_spawn(ws_.get_executor(), writer(), asio::detached);
    beast::flat_buffer buf;
    for (;;) {
      auto [rec, n] = co_await ws_.async_read(buf, tuple_awaitable);
      if (rec) break;
      buf.consume(buf.size());
    }
    sessions.erase(this);
    done_ = true;
    wake_.cancel();
  }
  void send(const std::shared_ptr<const std::string>& m) {
    queue_.push_back(m);
    wake_.cancel();
  }

 private:
  asio::awaitable<void> writer() {
    auto self = shared_from_this();
    while (!done_) {
      if (queue_.empty()) {
        wake_.expires_at(asio::steady_timer::time_point::max());
        co_await wake_.async_wait(tuple_awaitable);
        continue;
      }
      auto m = queue_.front();
      queue_.pop_front();
      ws_.text(true);
      auto [ec, n] = co_await ws_.async_write(asio::buffer(*m), tuple_awaitable);
      if (ec) co_return;
    }
  }
  websocket::stream<beast::tcp_stream> ws_;
  asio::steady_timer wake_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  bool done_ = false;
};

asio::awaitable<void> connection(asio::ip::tcp::socket s) {
  beast::tcp_stream stream(std::move(s));
  beast::flat_buffer buf;
  http::request<http::string_body> req;
  auto [ec, n] = co_await http::async_read(stream, buf, req, tuple_awaitable);
  if (ec) co_return;
  if (websocket::is_upgrade(req)) {
    auto sess = std::make_shared<session>(std::move(stream));
    co_await sess->run(std::move(req));
    co_return;
  }
  std::string target(req.target());
  auto param = [&](const std::string& k, long def) {
    auto p = target.find(k + "=");
    return p == std::string::npos ? def : std::atol(target.c_str() + p + k.size() + 1);
  };
  long count = param("n", 10000), size = param("size", 250);
  for (long i = 0; i < count; ++i) {
    auto msg = std::make_shared<const std::string>(static_cast<std::size_t>(size), 'x');
    for (auto* s : sessions) s->send(msg);
  }
  http::response<http::string_body> res{http::status::ok, req.version()};
  res.body() = "{\"published\":" + std::to_string(count) + "}";
  res.prepare_payload();
  co_await http::async_write(stream, res, tuple_awaitable);
}

asio::awaitable<void> listen(asio::ip::tcp::acceptor& acc) {
  for (;;) {
    auto [ec, s] = co_await acc.async_accept(tuple_awaitable);
    if (ec) co_return;
    asio::co_spawn(acc.get_executor(), connection(std::move(s)), asio::detached);
  }
}

int main(int argc, char** argv) {
  asio::io_context ioc(1);
  asio::ip::tcp::acceptor acc(ioc, {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 0)});
  asio::co_spawn(ioc, listen(acc), asio::detached);
  std::cout << "ready " << acc.local_endpoint().port() << std::endl;
  ioc.run();
}
