#include "net/listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/log/trivial.hpp>

#include "net/app_context.hpp"
#include "common/unexpected.hpp"
#include "net/http_session.hpp"

namespace asio = boost::asio;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace projcache::net {

namespace {
asio::awaitable<void> refuse(asio::ip::tcp::socket socket) {
  static constexpr std::string_view busy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 40\r\n"
      "Connection: close\r\n\r\n{\"detail\":\"Too many open connections\"}\r\n";
  co_await asio::async_write(socket, asio::buffer(busy), as_tuple_awaitable);
  boost::system::error_code ignored;
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}
}  // namespace

asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor, app_context& app) {
  auto ex = co_await asio::this_coro::executor;
  std::chrono::steady_clock::time_point last_logged{};
  std::uint64_t failures = 0;
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ex), as_tuple_awaitable);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      // Out of descriptors and the like: back off instead of spinning, and say so once per
      // interval, not once per attempt.
      ++failures;
      auto now = std::chrono::steady_clock::now();
      if (now - last_logged > std::chrono::seconds(10)) {
        BOOST_LOG_TRIVIAL(warning) << "cannot accept connections (" << ec.message() << "; " << failures
                                   << " time(s) since the last report): close idle clients or raise the open-file limit";
        last_logged = now;
        failures = 0;
      }
      asio::steady_timer t(ex, std::chrono::milliseconds(100));
      co_await t.async_wait(as_tuple_awaitable);
      continue;
    }
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    if (app.stopping) continue;
    // WebSocket sessions leave the HTTP count when they upgrade: they count here all the same.
    auto open = app.stats.connections.load() + app.stats.subscribers.load();
    // At the cap the longest-idle connection makes room; refused only when every one is busy.
    bool full = static_cast<std::size_t>(open) >= app.opts.max_connections;
    if (full && app.idle.evict_oldest()) {
      app.stats.evicted_connections.fetch_add(1);
    } else if (full) {
      app.stats.refused_connections.fetch_add(1);
      auto sock_ex = socket.get_executor();
      asio::co_spawn(sock_ex, refuse(std::move(socket)), asio::detached);
      continue;
    }
    // Counted here, not when the session starts on its strand: a burst at the cap sees each one.
    app.stats.connections.fetch_add(1);
    auto sock_ex = socket.get_executor();
    asio::co_spawn(sock_ex, run_http_session(std::move(socket), app),
                   log_if_thrown{"connection ended by an unexpected error"});
  }
}

}  // namespace projcache::net
