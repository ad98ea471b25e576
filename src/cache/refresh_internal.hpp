#pragma once
// Helpers shared by refresh.cpp and refresh_schedule.cpp.
#include <chrono>

#include "cache/refresh.hpp"
#include "platform/platform.hpp"

namespace projcache::cache::detail {

inline double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace projcache::cache::detail

namespace projcache::cache {

// One project's refresh: its attempts, waiters and timer (owned by the write strand).
struct refresh_job::job {
  job(strand_type& s) : timer(s) {}
  std::string id, path;
  int attempt = 0;
  bool running = false;
  bool awaiting_write = false;  // scanned; its rows wait in to_write_ (no longer in flight)
  bool rerun = false;
  bool store_failure = false;  // the last attempt failed to write, not to read
  std::uint64_t token = 0;
  std::vector<done_fn> waiters, next_waiters;
  std::shared_ptr<collection_memo> memo;
  std::shared_ptr<std::atomic<bool>> cancel;  // the running attempt's: set on timeout or abandon
  boost::asio::steady_timer timer;
  std::chrono::steady_clock::time_point started;
};

}  // namespace projcache::cache
