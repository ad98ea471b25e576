// When the refresh job's writes become visible. Every write stages its project's new entry in
// the store; publishing folds everything staged into one new snapshot. Publishing after each
// project would copy the whole read model once per project, O(N^2) over a refresh of N; here a
// batch goes out when the queue drains, and otherwise at most once per `spacing`, so the cost of
// publishing stays a fixed share of the work. Events and refresh answers wait in after_publish_
// until the snapshot holding their rows is out, in the order they were raised.
#include <algorithm>

#include "cache/refresh.hpp"
#include "events/bus.hpp"

namespace projcache::cache {

namespace {
using namespace std::chrono_literals;
// The shortest wait between two publishes, and how many times its own cost a publish waits
// before the next: a publish then takes at most a tenth of the write strand's time.
constexpr auto min_spacing = 2ms;
constexpr int cost_factor = 10;
}  // namespace

void refresh_job::emit(events::event e) {
  after_publish([this, e = std::move(e)] { bus_.publish(e); });
}

void refresh_job::after_publish(std::function<void()> f) {
  if (!draining_ && after_publish_.empty() && !store_.has_staged()) return f();
  after_publish_.push_back(std::move(f));
  request_publish();
}

void refresh_job::request_publish() {
  if (draining_ || (after_publish_.empty() && !store_.has_staged())) return;
  if (jobs_.empty()) return publish_now();  // nothing more is coming: a lone change goes out at once
  if (publish_armed_) return;
  publish_armed_ = true;
  auto wait = std::max(std::chrono::steady_clock::duration::zero(), next_publish_ - std::chrono::steady_clock::now());
  publish_timer_.expires_after(wait);
  publish_timer_.async_wait([this](boost::system::error_code) {
    publish_armed_ = false;
    publish_now();  // also when cancelled by stop(): waiters still get their answers
  });
}

void refresh_job::publish_now() {
  if (draining_) return;
  draining_ = true;
  auto t0 = std::chrono::steady_clock::now();
  store_.publish();
  auto t1 = std::chrono::steady_clock::now();
  next_publish_ = t1 + std::max<std::chrono::steady_clock::duration>(min_spacing, (t1 - t0) * cost_factor);
  // One at a time from the front: what an action raises goes behind what was already waiting,
  // and whatever an action staged is published before the next one runs.
  while (!after_publish_.empty()) {
    store_.publish();
    auto f = std::move(after_publish_.front());
    after_publish_.pop_front();
    f();
  }
  draining_ = false;
  store_.publish();  // staged by the last action, with nothing waiting on it
}

}  // namespace projcache::cache
