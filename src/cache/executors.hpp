#pragma once
// Where the cache's work runs: every database write, and the state of the parts that write, on
// one strand of the server's io_context; scans and other disk work (discovery, hashing, the
// retention check) on a small pool at background priority. The service owns both and gives
// each part what it runs on, so no part lends its own to another.
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <algorithm>
#include <cstddef>

namespace projcache::cache {

using strand_type = boost::asio::strand<boost::asio::io_context::executor_type>;

struct executors {
  executors(boost::asio::io_context& ioc, int scan_threads)
      : write_strand(boost::asio::make_strand(ioc)), pool(static_cast<std::size_t>(std::max(1, scan_threads))) {}
  executors(const executors&) = delete;
  executors& operator=(const executors&) = delete;

  strand_type write_strand;
  boost::asio::thread_pool pool;
};

}  // namespace projcache::cache
