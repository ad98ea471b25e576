#include "net/write_combining_stream.hpp"

#include <boost/asio/write.hpp>

namespace asio = boost::asio;

namespace projcache::net {

void write_combining_stream::kick() {
  auto& st = *st_;
  if (st.flushing || st.pending.empty() || st.error) return;
  send_pending(st_);
}

void write_combining_stream::send_pending(const std::shared_ptr<state>& st) {
  st->flushing = true;
  st->sending.swap(st->pending);
  asio::async_write(*st->stream, asio::buffer(st->sending),
                    [st](boost::system::error_code ec, std::size_t) { on_flushed(st, ec); });
}

void write_combining_stream::on_flushed(const std::shared_ptr<state>& st, boost::system::error_code ec) {
  st->flushing = false;
  if (!st->stream) {  // the layer is gone: its waiters complete with operation_aborted
    st->flushed.cancel();
    return;
  }
  st->sending.clear();
  // A burst to one client must not pin a large buffer for the life of an idle connection.
  if (st->sending.capacity() > st->high_water) std::string().swap(st->sending);
  if (ec) {
    st->error = ec;
    st->pending.clear();
  }
  if (!st->error && !st->pending.empty()) send_pending(st);
  st->flushed.cancel();  // waiters look again: done, or wait for the flush just started
}

void teardown(boost::beast::role_type role, write_combining_stream& stream, boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

}  // namespace projcache::net
