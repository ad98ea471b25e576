#pragma once
// The marketplace cache (contract section 5): listings fetched over HTTP(S) from the configured
// URL (through the http_get_fn it is given), mapped to marketplace rows, kept 24 h; a failed
// fetch keeps the old entries and says why in a refresh_error event.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cache/http_get.hpp"
#include "db/types.hpp"

namespace projcache::events {
class bus;
}

namespace projcache::cache {

class store;
class read_model;

// Maps a listings document (a JSON array, or an object holding one under "listings", "items"
// or "data") to rows; nothing when the document is not that shape.
std::optional<std::vector<db::marketplace_row>> parse_listings(const std::string& body, micros now,
                                                               std::string& error);

class marketplace_fetcher {
 public:
  using done_fn = std::function<void(std::optional<std::string> error)>;
  using strand_type = boost::asio::strand<boost::asio::io_context::executor_type>;
  // Rows are stored on write_strand, where every database write runs.
  // Its failures go to `bus` as refresh_error events with details.source "marketplace".
  // Without `get` every fetch fails, saying so (the one-shot commands fetch nothing).
  marketplace_fetcher(boost::asio::io_context& ioc, cache::store& m, const read_model& reads,
                      strand_type& write_strand, events::bus& bus, http_get_fn get);
  // Fetches when the cache is older than its TTL, then checks again every hour.
  void start();
  void stop();
  // Fetches now; done gets the reason of a failure (on the write strand).
  void fetch_now(done_fn done);

 private:
  void schedule();
  void save(const std::optional<std::string>& fetch_error, const std::string& body, const done_fn& done);
  cache::store& store_;
  const read_model& reads_;
  strand_type& write_strand_;
  events::bus& bus_;
  http_get_fn get_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace projcache::cache
