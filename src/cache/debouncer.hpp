#pragma once
// Coalesces the router's keys: a key fires once its changes have been quiet for the debounce
// (trailing), or at the latest `max_wait` after its first change, so a constant stream of
// writes still refreshes. `debounce_schedule` is the arithmetic, with time passed in (unit
// tested without a clock); `debouncer` runs it on one steady_timer in the io_context.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "cache/watch_router.hpp"

namespace projcache::cache {

class debounce_schedule {
 public:
  using clock = std::chrono::steady_clock;
  debounce_schedule(std::chrono::milliseconds debounce, std::chrono::milliseconds max_wait)
      : debounce_(debounce), max_wait_(max_wait) {}
  void touch(const debounce_key& k, clock::time_point now);
  // The keys due at `now`, earliest deadline first; they leave the schedule.
  std::vector<debounce_key> take_due(clock::time_point now);
  std::optional<clock::time_point> next_deadline() const;
  std::size_t pending() const { return pending_.size(); }
  void clear() { pending_.clear(); }

 private:
  struct entry {
    clock::time_point first, deadline;
  };
  std::chrono::milliseconds debounce_, max_wait_;
  std::map<debounce_key, entry> pending_;
};

class debouncer {
 public:
  using strand_type = boost::asio::strand<boost::asio::io_context::executor_type>;
  using fire_fn = std::function<void(const debounce_key&)>;
  static constexpr std::chrono::milliseconds max_wait{1000};
  // Everything on `strand`.
  debouncer(strand_type& strand, std::chrono::milliseconds debounce, fire_fn fire);
  void touch(const debounce_key& k);
  void stop();
  // Keys waiting to fire; 0 when quiet (readable from any thread).
  std::size_t pending() const { return pending_.load(); }

 private:
  void arm();
  boost::asio::steady_timer timer_;
  debounce_schedule schedule_;
  fire_fn fire_;
  std::optional<debounce_schedule::clock::time_point> armed_for_;
  std::atomic<std::size_t> pending_{0};
};

}  // namespace projcache::cache
