#include "net/ws_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <boost/log/trivial.hpp>
#include <array>
#include <mutex>
#include <utility>
#include <vector>
#include <set>
#include <type_traits>
#include <variant>

#include "common/fifo.hpp"
#include "common/time_format.hpp"
#include "common/unexpected.hpp"
#include "events/bus.hpp"
#include "net/app_context.hpp"
#include "net/write_combining_stream.hpp"
#include "net/ws_frame.hpp"
#include "net/ws_protocol.hpp"
#include "common/json_text.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace projcache::net {

class ws_session : public std::enable_shared_from_this<ws_session> {
 public:
  ws_session(beast::tcp_stream stream, app_context& app, std::string subprotocol)
      : ws_(std::move(stream)), app_(app), subprotocol_(std::move(subprotocol)), wake_(ws_.get_executor()),
        kill_(ws_.get_executor()) {}

  asio::awaitable<void> run(request req);
  void going_away() {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      self->request_close(websocket::close_code::going_away, "server shutting down");
    });
  }

 private:
  asio::awaitable<void> reader();
  asio::awaitable<void> writer();
  asio::awaitable<void> linger();
  void send(std::string text) { enqueue(std::make_shared<const std::string>(std::move(text))); }
  void enqueue(std::shared_ptr<const std::string> msg);
  void on_event(const events::event_ptr& ev);
  // From the publisher's thread: into the inbox, and one wake-up post per batch, not per event.
  void deliver(const events::event_ptr& ev);
  void drain_inbox();
  void handle_text(const std::string& text);
  void subscribe(ws_protocol::subscribe req);
  void unsubscribe();
  bool wanted(const events::published_event& e) const;
  // The close frame goes after what is in flight; a peer that reads nothing for `grace` loses
  // the TCP connection instead.
  void request_close(websocket::close_code code, std::string reason,
                     std::chrono::seconds grace = std::chrono::seconds(2));
  // The next message to send, in order (see replay_), or null.
  std::shared_ptr<const std::string> next_message();
  void error_reply(const std::string& detail) { send(to_json_text(json::object{{"op", "error"}, {"detail", detail}})); }

  websocket::stream<write_combining_stream> ws_;
  app_context& app_;
  std::string subprotocol_;
  asio::steady_timer wake_, kill_;
  // Beast 1.81 can deadlock a close against a failing read: our async_close holds its write
  // block and waits for the read block, while a read that found a protocol error in bytes
  // already buffered (a continuation without a start, say) holds the read block and waits for
  // the write block. Neither touches the socket again, so closing it wakes neither. When the
  // grace runs out, both are cancelled: the session always ends.
  asio::cancellation_signal read_cancel_, close_cancel_;
  fifo<std::shared_ptr<const std::string>> queue_;
  std::size_t queued_bytes_ = 0;
  // Replay after `since`: sent as the socket takes it (the events are the bus ring's own, not
  // copies), after the first replay_prefix_ messages of queue_ (the "subscribed" reply) and
  // before any live event. Only live events count against the slow-consumer limit.
  fifo<events::event_ptr> replay_;
  std::size_t replay_prefix_ = 0;
  bool closed_ = false, writer_waiting_ = false;
  std::optional<websocket::close_reason> close_;
  std::optional<std::uint64_t> bus_id_;
  std::optional<std::set<std::string>> types_, projects_;
  std::uint64_t last_seq_ = 0;
  std::uint64_t registry_id_ = 0;
  std::mutex inbox_mu_;
  std::vector<events::event_ptr> inbox_;
  bool wake_posted_ = false, inbox_overflow_ = false;
};

asio::awaitable<void> ws_session::run(request req) {
  auto self = shared_from_this();
  websocket::stream_base::timeout t{};
  t.handshake_timeout = std::chrono::seconds(10);
  t.idle_timeout = app_.opts.ws_idle_timeout;  // pings at half of it, closed when silent for all of it
  t.keep_alive_pings = true;
  ws_.set_option(t);
  ws_.read_message_max(app_.opts.body_limit);
  ws_.set_option(websocket::stream_base::decorator([proto = subprotocol_](websocket::response_type& res) {
    res.set(http::field::server, "projcache");
    if (!proto.empty()) res.set(http::field::sec_websocket_protocol, proto);
  }));
  // A bounded kernel send buffer: a client that stops reading backs up into our (bounded)
  // queue soon, instead of into megabytes of socket memory.
  boost::system::error_code opt_ec;
  beast::get_lowest_layer(ws_).socket().set_option(asio::socket_base::send_buffer_size(64 * 1024), opt_ec);
  auto [ec] = co_await ws_.async_accept(req, as_tuple_awaitable);
  req = {};  // a subscriber lives for hours: its upgrade request's headers need not
  if (ec) co_return;
  {
    std::lock_guard lk(app_.ws_mu);
    registry_id_ = app_.next_ws_id++;
    app_.ws_sessions[registry_id_] = weak_from_this();
  }
  app_.stats.subscribers.fetch_add(1);
  if (app_.stopping) request_close(websocket::close_code::going_away, "server shutting down");
  asio::co_spawn(ws_.get_executor(), writer(), log_if_thrown{"websocket writer ended by an unexpected error"});
  co_await reader();
  unsubscribe();
  closed_ = true;
  wake_.cancel();
  kill_.cancel();
  co_await linger();
  app_.stats.subscribers.fetch_sub(1);
  std::lock_guard lk(app_.ws_mu);
  app_.ws_sessions.erase(registry_id_);
}

// Closing a socket with unread input makes the kernel answer RST, which can overtake the
// close frame already sent (after a 1009, say): stop sending, drain briefly, then close.
asio::awaitable<void> ws_session::linger() {
  auto& tcp = beast::get_lowest_layer(ws_);
  if (!tcp.socket().is_open()) co_return;
  boost::system::error_code ec;
  tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  tcp.expires_after(std::chrono::seconds(1));
  std::array<char, 4096> scratch;
  for (;;) {
    auto [rec, n] = co_await tcp.async_read_some(asio::buffer(scratch), as_tuple_awaitable);
    if (rec) break;
  }
  tcp.socket().close(ec);
}

asio::awaitable<void> ws_session::reader() {
  auto self = shared_from_this();
  // A message is read in pieces into a small buffer in this frame, and gathered in `text`: a
  // whole-message read would hold a 1.5 KB buffer, prepared before the first byte comes, for
  // every subscriber that sits waiting (most of them, most of the time). Beast still checks
  // each message against read_message_max (1009 when over).
  std::array<char, 256> piece;
  std::string text;
  for (;;) {
    auto [ec, n] = co_await ws_.async_read_some(asio::buffer(piece),
                                                asio::bind_cancellation_slot(read_cancel_.slot(), as_tuple_awaitable));
    if (ec) co_return;  // closed, too big (Beast answers 1009 itself), timed out or reset
    text.append(piece.data(), n);
    if (!ws_.is_message_done()) continue;
    if (!ws_.got_text()) {
      request_close(websocket::close_code::unknown_data, "binary frames are not accepted");
    } else if (!close_) {
      handle_text(text);
    }
    std::string().swap(text);  // idle subscribers hold no message between messages
  }
}

asio::awaitable<void> ws_session::writer() {
  auto self = shared_from_this();
  auto& out = ws_.next_layer();
  for (;;) {
    while (queue_.empty() && replay_.empty() && !close_ && !closed_) {
      writer_waiting_ = true;
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(as_tuple_awaitable);
      writer_waiting_ = false;
    }
    if (closed_) co_return;
    if (!queue_.empty() || !replay_.empty()) {
      // Once Beast has answered the peer's close frame nothing may follow it.
      if (!ws_.is_open()) co_return;
      // Everything queued goes out in one send, up to the combining layer's mark.
      while (!out.full()) {
        auto msg = next_message();
        if (!msg) break;
        out.append(text_frame_header(msg->size()).view(), *msg);
      }
      out.flush();
      if (out.full()) {
        auto [ec] = co_await out.async_wait_room(as_tuple_awaitable);
        if (ec) co_return;
      }
      continue;
    }
    auto reason = *close_;
    co_await ws_.async_close(reason, asio::bind_cancellation_slot(close_cancel_.slot(), as_tuple_awaitable));
    co_return;
  }
}

std::shared_ptr<const std::string> ws_session::next_message() {
  if (replay_prefix_ == 0) {
    while (!replay_.empty()) {
      auto ev = std::move(replay_.front());
      replay_.pop_front();
      if (wanted(*ev)) return ev->text();  // inflated as the client reads: replay is flow-controlled
    }
  }
  if (queue_.empty()) return nullptr;
  auto msg = std::move(queue_.front());
  queue_.pop_front();
  if (replay_prefix_) --replay_prefix_;
  queued_bytes_ -= msg->size();
  app_.stats.ws_queued_bytes.fetch_sub(static_cast<std::int64_t>(msg->size()));
  return msg;
}

void ws_session::enqueue(std::shared_ptr<const std::string> msg) {
  if (close_ || closed_) return;
  if (queue_.size() + 1 > app_.opts.ws_queue_messages || queued_bytes_ + msg->size() > app_.opts.ws_queue_bytes) {
    // A client that does not read must not grow our memory: drop it, leave the others be.
    app_.stats.dropped_clients.fetch_add(1);
    BOOST_LOG_TRIVIAL(warning) << "websocket subscriber " << registry_id_ << " too slow (" << queue_.size()
                               << " messages, " << queued_bytes_ << " bytes queued): closing";
    app_.stats.ws_queued_bytes.fetch_sub(static_cast<std::int64_t>(queued_bytes_));
    queue_.clear();
    queued_bytes_ = 0;
    replay_prefix_ = 0;
    unsubscribe();
    // A client that resumes reading within the grace still learns why, from the close frame.
    request_close(websocket::close_code::policy_error, "client too slow: send queue limit exceeded",
                  std::chrono::seconds(5));
    return;
  }
  queued_bytes_ += msg->size();
  app_.stats.ws_queued_bytes.fetch_add(static_cast<std::int64_t>(msg->size()));
  queue_.push_back(std::move(msg));
  if (writer_waiting_) wake_.cancel();
}

void ws_session::request_close(websocket::close_code code, std::string reason, std::chrono::seconds grace) {
  if (close_ || closed_) return;
  close_ = websocket::close_reason(code, reason);
  app_.stats.ws_queued_bytes.fetch_sub(static_cast<std::int64_t>(queued_bytes_));
  queue_.clear();
  queued_bytes_ = 0;
  replay_.clear();
  replay_prefix_ = 0;
  wake_.cancel();
  // A write stuck on a peer that reads nothing: give it a moment, then drop the socket.
  kill_.expires_after(grace);
  kill_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->closed_) return;
    boost::system::error_code ignored;
    beast::get_lowest_layer(self->ws_).socket().close(ignored);
    self->read_cancel_.emit(asio::cancellation_type::terminal);
    self->close_cancel_.emit(asio::cancellation_type::terminal);
  });
}

bool ws_session::wanted(const events::published_event& e) const {
  if (types_ && !types_->count(std::string(events::to_string(e.type)))) return false;
  if (projects_ && (!e.project_id || !projects_->count(*e.project_id))) return false;
  return true;
}

void ws_session::deliver(const events::event_ptr& ev) {
  {
    std::lock_guard lk(inbox_mu_);
    if (inbox_.size() >= app_.opts.ws_queue_messages) {
      inbox_overflow_ = true;  // the strand is behind: this client is closed when it catches up
      return;
    }
    inbox_.push_back(ev);
    if (wake_posted_) return;
    wake_posted_ = true;
  }
  asio::post(ws_.get_executor(), [self = shared_from_this()] { self->drain_inbox(); });
}

void ws_session::drain_inbox() {
  std::vector<events::event_ptr> batch;
  bool overflow;
  {
    std::lock_guard lk(inbox_mu_);
    batch.swap(inbox_);
    wake_posted_ = false;
    overflow = std::exchange(inbox_overflow_, false);
  }
  for (auto& ev : batch) on_event(ev);
  if (overflow && !close_) {
    app_.stats.dropped_clients.fetch_add(1);
    unsubscribe();
    request_close(websocket::close_code::policy_error, "client too slow: send queue limit exceeded",
                  std::chrono::seconds(5));
  }
}

void ws_session::on_event(const events::event_ptr& ev) {
  if (!bus_id_ || ev->seq <= last_seq_) return;  // each event at most once, in order
  last_seq_ = ev->seq;
  if (wanted(*ev)) enqueue(ev->text());
}

void ws_session::unsubscribe() {
  if (bus_id_) app_.bus.unsubscribe(*bus_id_);
  bus_id_.reset();
  replay_.clear();  // a replay not sent yet belongs to that subscription
  replay_prefix_ = 0;
}

void ws_session::handle_text(const std::string& text) {
  namespace wp = ws_protocol;
  std::visit(
      [this](auto&& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, wp::ping>) {
          send(R"({"op":"pong"})");
        } else if constexpr (std::is_same_v<T, wp::unsubscribe>) {
          unsubscribe();
          send(R"({"op":"unsubscribed"})");
        } else if constexpr (std::is_same_v<T, wp::subscribe>) {
          subscribe(std::move(m));
        } else {
          error_reply(m.detail);
        }
      },
      wp::parse_client_message(text));
}

void ws_session::subscribe(ws_protocol::subscribe req) {
  auto since = req.since;
  auto epoch = std::move(req.epoch);
  unsubscribe();
  types_ = std::move(req.types);
  projects_ = std::move(req.project_ids);
  bool other_run = epoch && *epoch != app_.bus.epoch();
  auto weak = weak_from_this();
  auto [id, replay] = app_.bus.subscribe(
      [weak](const events::event_ptr& ev) {
        if (auto s = weak.lock()) s->deliver(ev);
      },
      other_run ? std::nullopt : since);
  bus_id_ = id;
  last_seq_ = replay.current_seq;
  send(to_json_text(json::object{{"op", "subscribed"}, {"seq", replay.current_seq}, {"epoch", app_.bus.epoch()}}));
  if (since && (other_run || replay.too_old)) {
    auto e = events::resync_required(other_run             ? "epoch is not this server run"
                                     : replay.from_future ? "since is ahead of the newest event: it is not from this server run"
                                                          : "since is older than the kept events",
                                     false);
    send(events::to_json(e, std::nullopt, now_micros()));
    return;
  }
  replay_.assign(replay.events.begin(), replay.events.end());
  replay_prefix_ = queue_.size();  // what is queued now ("subscribed" last) goes first
  if (!replay_.empty() && writer_waiting_) wake_.cancel();
}

void start_ws_session(beast::tcp_stream stream, request req, std::string subprotocol, app_context& app) {
  auto ex = stream.get_executor();
  auto s = std::make_shared<ws_session>(std::move(stream), app, std::move(subprotocol));
  asio::co_spawn(ex, s->run(std::move(req)), log_if_thrown{"websocket session ended by an unexpected error"});
}

void close_all_ws_sessions(app_context& app) {
  std::vector<std::shared_ptr<ws_session>> live;
  {
    std::lock_guard lk(app.ws_mu);
    for (auto& [_, w] : app.ws_sessions)
      if (auto s = w.lock()) live.push_back(std::move(s));
  }
  for (auto& s : live) s->going_away();
}

}  // namespace projcache::net
