#include "cache/store_health.hpp"

#include <boost/log/trivial.hpp>

namespace projcache::cache {

void store_health::failed(const std::string& what, const std::string& why) {
  std::lock_guard lk(mu_);
  ++state_.failed_writes;
  if (!state_.degraded) {
    state_.degraded = true;
    state_.since = now_micros();
  }
  state_.detail = what + " failed: " + why;
  if (logged_.insert(what + "|" + why).second)
    BOOST_LOG_TRIVIAL(error) << "cache database: " << what << " failed: " << why
                             << "; serving from memory and retrying the writes until they work (free space, or "
                                "make the file writable)";
}

void store_health::succeeded() {
  std::lock_guard lk(mu_);
  if (!state_.degraded) return;
  BOOST_LOG_TRIVIAL(warning) << "cache database: writes work again after " << state_.failed_writes << " failed write(s)";
  state_.degraded = false;
  state_.detail.reset();
  state_.since.reset();
  logged_.clear();
}

bool store_health::degraded() const {
  std::lock_guard lk(mu_);
  return state_.degraded;
}

store_state store_health::state() const {
  std::lock_guard lk(mu_);
  return state_;
}

}  // namespace projcache::cache
