// The WebSocket write path: our frame header, and the write-combining layer under a Beast
// stream, read back by a plain Beast client. The operations complete through use_awaitable
// where they can: each (operation, completion token) pair instantiates Beast's composed
// operations once more, and this file is the slowest to compile of the sanitized build.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "net/write_combining_stream.hpp"
#include "net/ws_frame.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using projcache::net::text_frame_header;
using projcache::net::write_combining_stream;
using tcp = asio::ip::tcp;

namespace {
std::string bytes(std::string_view v) { return std::string(v); }

// A connected pair: a server-side stream over the combining layer and a Beast client.
struct ws_pair {
  asio::io_context ioc;
  std::optional<websocket::stream<write_combining_stream>> server;
  std::optional<websocket::stream<beast::tcp_stream>> client;

  explicit ws_pair(int client_rcvbuf = 0) {
    tcp::acceptor acc(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    tcp::socket c(ioc);
    if (client_rcvbuf) {
      c.open(tcp::v4());
      c.set_option(asio::socket_base::receive_buffer_size(client_rcvbuf));
    }
    c.connect(acc.local_endpoint());
    server.emplace(beast::tcp_stream(acc.accept()));
    client.emplace(beast::tcp_stream(std::move(c)));
    asio::co_spawn(ioc, server->async_accept(asio::use_awaitable), asio::detached);
    asio::co_spawn(ioc, client->async_handshake("127.0.0.1", "/", asio::use_awaitable), asio::detached);
    ioc.run();
    ioc.restart();
  }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(ws_write_path)

BOOST_AUTO_TEST_CASE(frame_header_lengths) {
  BOOST_TEST(bytes(text_frame_header(0).view()) == std::string("\x81\x00", 2));
  BOOST_TEST(bytes(text_frame_header(125).view()) == std::string("\x81\x7d", 2));
  BOOST_TEST(bytes(text_frame_header(126).view()) == std::string("\x81\x7e\x00\x7e", 4));
  BOOST_TEST(bytes(text_frame_header(65535).view()) == std::string("\x81\x7e\xff\xff", 4));
  BOOST_TEST(bytes(text_frame_header(65536).view()) == std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
}

BOOST_AUTO_TEST_CASE(a_batch_reads_back_as_messages_with_control_frames_between) {
  ws_pair p;
  std::vector<std::string> sent = {"{}", std::string(300, 'a'), std::string(70'000, 'b'), "last"};
  auto& out = p.server->next_layer();
  for (auto& m : sent) out.append(text_frame_header(m.size()).view(), m);
  out.flush();
  // The server reads (so Beast answers the client's ping through the same layer); on the
  // client's text it appends one more frame and closes.
  beast::flat_buffer sbuf;
  std::string server_got;
  boost::system::error_code server_close_ec = asio::error::would_block;
  asio::co_spawn(
      p.ioc,
      [&]() -> asio::awaitable<void> {
        co_await p.server->async_read(sbuf, asio::use_awaitable);
        server_got = beast::buffers_to_string(sbuf.data());
        out.append(text_frame_header(3).view(), "ack");
        out.flush();
        co_await p.server->async_close(websocket::close_code::going_away, asio::use_awaitable);
        server_close_ec = {};
      },
      asio::detached);
  std::vector<std::string> got;
  bool pong = false, pong_before_ack = false;
  p.client->control_callback([&](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::pong) pong = true;
  });
  asio::co_spawn(
      p.ioc,
      [&]() -> asio::awaitable<void> {
        beast::flat_buffer buf;
        for (std::size_t i = 0; i < sent.size(); ++i) {
          co_await p.client->async_read(buf, asio::use_awaitable);
          got.push_back(beast::buffers_to_string(buf.data()));
          buf.consume(buf.size());
        }
        co_await p.client->async_ping({}, asio::use_awaitable);
        co_await p.client->async_write(asio::buffer(std::string("hello")), asio::use_awaitable);
        co_await p.client->async_read(buf, asio::use_awaitable);
        pong_before_ack = pong && beast::buffers_to_string(buf.data()) == "ack";
        try {
          co_await p.client->async_read(buf, asio::use_awaitable);
          BOOST_ERROR("a message after the close");
        } catch (const boost::system::system_error& e) {
          BOOST_TEST((e.code() == websocket::error::closed));
        }
      },
      asio::detached);
  p.ioc.run();
  BOOST_TEST(got == sent, boost::test_tools::per_element());
  BOOST_TEST(pong_before_ack);
  BOOST_TEST(server_got == "hello");
  BOOST_TEST(!server_close_ec);
  BOOST_TEST(p.client->reason().code == websocket::close_code::going_away);
  BOOST_TEST(out.buffered_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(a_slow_reader_keeps_the_buffer_under_its_mark) {
  ws_pair p(4096);  // a small receive window: the sender must wait for the reader
  beast::get_lowest_layer(*p.server).socket().set_option(asio::socket_base::send_buffer_size(4096));
  auto& out = p.server->next_layer();
  const std::size_t count = 2000, size = 1000, mark = 16 * 1024;
  std::size_t most = 0, waits = 0, received = 0;
  bool in_order = true;
  asio::co_spawn(
      p.ioc,
      [&]() -> asio::awaitable<void> {
        for (std::size_t i = 0; i < count; ++i) {
          auto m = std::to_string(i) + std::string(size, 'x');
          out.append(text_frame_header(m.size()).view(), m);
          out.flush();
          most = std::max(most, out.buffered_bytes());
          if (out.full()) {
            ++waits;
            co_await out.async_wait_room(asio::use_awaitable);
          }
        }
      },
      asio::detached);
  asio::co_spawn(
      p.ioc,
      [&]() -> asio::awaitable<void> {
        beast::flat_buffer buf;
        for (; received < count; ++received) {
          co_await p.client->async_read(buf, asio::use_awaitable);
          auto s = beast::buffers_to_string(buf.data());
          if (s.rfind(std::to_string(received) + "x", 0) != 0) in_order = false;
          buf.consume(buf.size());
        }
      },
      asio::detached);
  p.ioc.run();
  BOOST_TEST(received == count);
  BOOST_TEST(in_order);
  BOOST_TEST(waits > 0u);
  BOOST_TEST(most < mark + size + 16);
}

// Beast lets its stream be destroyed while operations are pending (they complete with
// operation_aborted). A write parked in this layer, waiting for the peer to read, must then
// complete without touching the destroyed layer: the fan-out benchmark crashed there when 1,000
// clients went at once while their sessions were writing.
BOOST_AUTO_TEST_CASE(a_write_waiting_when_the_stream_is_destroyed_completes_aborted) {
  ws_pair p(4096);
  beast::get_lowest_layer(*p.server).socket().set_option(asio::socket_base::send_buffer_size(4096));
  std::optional<boost::system::error_code> result;
  std::string big(1 << 20, 'x');
  // A callback, not a coroutine: the coroutine's frame would be parked inside the stream
  // being destroyed.
  p.server->async_write(asio::buffer(big), [&](boost::system::error_code ec, std::size_t) { result = ec; });
  p.ioc.poll();  // the peer reads nothing: the write stays parked behind the flush
  BOOST_REQUIRE(!result);
  BOOST_REQUIRE(p.server->next_layer().full());
  p.server.reset();  // closes the socket: the flush fails, the parked write wakes up
  p.ioc.run();
  BOOST_REQUIRE(result);
  BOOST_TEST(result->failed());
}

BOOST_AUTO_TEST_SUITE_END()
