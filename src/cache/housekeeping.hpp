#pragma once
// Housekeeping for a sidecar that runs for weeks: once an hour (and at demand), on the write
// strand, it purges what the retention period outlived, enforces the size cap, and runs
// VACUUM and ANALYZE when they are worth it. Checking whether fingerprinted paths still exist
// is disk work, so it runs on the background pool, not on an I/O thread.
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include "cache/manager.hpp"
#include "common/time_format.hpp"

namespace projcache::cache {

class refresh_job;

struct housekeeping_report {
  retention_outcome retention;
  size_cap_outcome size_cap;
  bool vacuumed = false, analyzed = false;
  std::int64_t file_bytes = 0;
};

class housekeeper {
 public:
  using clock_fn = std::function<micros()>;
  using done_fn = std::function<void(housekeeping_report)>;

  housekeeper(manager& m, refresh_job& job, clock_fn clock = [] { return now_micros(); });
  ~housekeeper();
  // A first pass after `first`, then one every `period`.
  void start(std::chrono::milliseconds first, std::chrono::milliseconds period);
  void stop();
  // One pass now; done runs on the write strand with what was done.
  void run_once(done_fn done);
  // Test seam: the wall clock housekeeping judges ages by.
  void set_clock(clock_fn clock) { clock_ = std::move(clock); }

 private:
  void schedule();
  void finish(std::vector<std::string> gone, std::vector<std::string> alive, micros now, done_fn done);

  // Handlers still queued when the housekeeper goes must not touch it: each runs under the
  // guard's lock and returns when it is dead (the destructor waits for one running now).
  struct guard {
    std::mutex mu;
    bool dead = false;
  };
  template <class F>
  auto guarded(F f);

  manager& mgr_;
  refresh_job& job_;
  std::shared_ptr<guard> guard_ = std::make_shared<guard>();
  clock_fn clock_;
  boost::asio::steady_timer timer_;
  std::chrono::milliseconds period_{std::chrono::hours(1)};
  std::atomic<bool> stopped_{false};
};

}  // namespace projcache::cache
