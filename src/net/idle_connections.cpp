#include "net/idle_connections.hpp"

#include <utility>

namespace projcache::net {

idle_connections::token idle_connections::add(std::function<void()> close) {
  std::lock_guard lk(mu_);
  auto t = ++next_;
  idle_.emplace(t, std::move(close));
  return t;
}

void idle_connections::remove(token t) {
  std::lock_guard lk(mu_);
  idle_.erase(t);
}

bool idle_connections::evict_oldest() {
  std::function<void()> close;
  {
    std::lock_guard lk(mu_);
    if (idle_.empty()) return false;
    close = std::move(idle_.begin()->second);
    idle_.erase(idle_.begin());
  }
  close();
  return true;
}

std::size_t idle_connections::size() const {
  std::lock_guard lk(mu_);
  return idle_.size();
}

}  // namespace projcache::net
