#pragma once
// A stream layer under the WebSocket stream that sends what was written since the last send with
// one system call: a subscriber with many events queued gets them in one write, not one write
// (and one TCP segment, one wake-up of the peer) per event.
//
// Everything written is copied into one send buffer and one flush loop sends it, so the frames
// the session appends and Beast's own control frames (pong, keep-alive ping, close) never
// interleave on the wire. Beast's writes are flushed at once; the session appends a batch and
// flushes it. Past the high-water mark writers wait for the peer to read: the session's bounded
// queue, not this buffer, takes a slow client's backlog.
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace projcache::net {

class write_combining_stream {
 public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;

  explicit write_combining_stream(next_layer_type&& next, std::size_t high_water = 16 * 1024)
      : next_(std::move(next)), st_(std::make_shared<state>(next_.get_executor())) {
    st_->stream = &next_;
    st_->high_water = high_water;
    st_->flushed.expires_at(boost::asio::steady_timer::time_point::max());
  }
  // The flush loop points at next_: the layer stays where it was built (inside Beast's stream).
  write_combining_stream(const write_combining_stream&) = delete;
  write_combining_stream& operator=(const write_combining_stream&) = delete;
  ~write_combining_stream() { st_->stream = nullptr; }  // a flush completing later must not touch it

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() noexcept { return next_; }
  const next_layer_type& next_layer() const noexcept { return next_; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return next_.async_read_some(buffers, std::forward<Token>(token));
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    auto n = boost::asio::buffer_size(buffers);
    if (!st_->error) {
      auto at = st_->pending.size();
      st_->pending.resize(at + n);
      boost::asio::buffer_copy(boost::asio::buffer(st_->pending.data() + at, n), buffers);
      kick();
    }
    // Over the mark the write completes only once the peer has taken enough.
    return async_wait_while<void(boost::system::error_code, std::size_t)>(
        [](const state& s) { return !s.error && s.full(); },
        [n](const state& s) { return std::tuple(s.error, s.error ? std::size_t{0} : n); }, std::forward<Token>(token));
  }

  // Appends bytes the caller framed itself (see ws_frame.hpp); flush() sends them.
  void append(std::string_view head, std::string_view body) {
    if (st_->error) return;
    st_->pending.append(head).append(body);
  }
  void flush() { kick(); }

  // Completes once what is buffered is under the high-water mark (or the connection failed):
  // a writer that keeps appending waits here for the peer to read.
  template <class Token>
  auto async_wait_room(Token&& token) {
    return async_wait_while<void(boost::system::error_code)>(
        [](const state& s) { return !s.error && s.full(); }, [](const state& s) { return std::tuple(s.error); },
        std::forward<Token>(token));
  }

  // Completes once everything written has been handed to the kernel, or the connection failed.
  template <class Token>
  auto async_drain(Token&& token) {
    kick();
    return async_wait_while<void(boost::system::error_code)>(
        [](const state&) { return true; }, [](const state& s) { return std::tuple(s.error); },
        std::forward<Token>(token));
  }

  std::size_t buffered_bytes() const noexcept { return st_->buffered_bytes(); }
  bool full() const noexcept { return st_->full(); }

 private:
  template <class Handler>
  friend void async_teardown(boost::beast::role_type role, write_combining_stream& stream, Handler&& handler);

  // Shared with the flush and with every waiter, which may outlive this layer: Beast allows its
  // stream (and so this layer inside it) to be destroyed while operations are pending, and they
  // then complete with operation_aborted. A waiter therefore never touches the layer, only this.
  struct state {
    explicit state(const executor_type& ex) : flushed(ex) {}
    std::size_t buffered_bytes() const noexcept { return pending.size() + sending.size(); }
    bool full() const noexcept { return buffered_bytes() >= high_water; }
    next_layer_type* stream = nullptr;
    std::string pending, sending;
    std::size_t high_water = 0;
    bool flushing = false;
    boost::system::error_code error;
    boost::asio::steady_timer flushed;  // never expires; cancelled after each flush to wake waiters
  };

  // While busy(state) holds and a flush is under way, waits for that flush to end and looks
  // again; then completes with result(state) (posted, never from inside the initiating call).
  // Once the layer is gone it completes with operation_aborted.
  template <class Signature, class Busy, class Result, class Token>
  auto async_wait_while(Busy busy, Result result, Token&& token) {
    return boost::asio::async_compose<Token, Signature>(
        [st = st_, ex = next_.get_executor(), busy, result, step = 0](auto& self, boost::system::error_code = {}) mutable {
          if (!st->stream && !st->error) st->error = boost::asio::error::operation_aborted;
          if (busy(*st) && st->flushing) return st->flushed.async_wait(std::move(self));
          if (step++ == 0) return boost::asio::post(ex, std::move(self));
          std::apply([&](auto... args) { self.complete(args...); }, result(*st));
        },
        token, next_);
  }

  void kick();
  static void send_pending(const std::shared_ptr<state>& st);
  static void on_flushed(const std::shared_ptr<state>& st, boost::system::error_code ec);

  next_layer_type next_;
  std::shared_ptr<state> st_;
};

// Found by Beast's close handshake (by argument-dependent lookup); more specialized than Beast's
// catch-all template, so this one is chosen.
template <class Handler>
void async_teardown(boost::beast::role_type role, write_combining_stream& stream, Handler&& handler) {
  stream.async_drain([st = stream.st_, &stream, role, h = std::forward<Handler>(handler)](boost::system::error_code) mutable {
    if (!st->stream) return h(boost::asio::error::operation_aborted);  // the layer went meanwhile
    using boost::beast::websocket::async_teardown;
    async_teardown(role, stream.next_layer(), std::move(h));
  });
}
void teardown(boost::beast::role_type role, write_combining_stream& stream, boost::system::error_code& ec);

}  // namespace projcache::net
