#pragma once
// HTTP connections waiting for their next request (new, or idle keep-alive), oldest first.
// At the connection cap the listener closes the longest-idle one to admit a new client, as nginx
// does: only connections with a request under way count as "full".
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace projcache::net {

class idle_connections {
 public:
  using token = std::uint64_t;
  // `close` is called at most once, from evict_oldest(), on the thread that evicts; it must hand
  // the close to the connection's own strand.
  token add(std::function<void()> close);
  void remove(token t);
  // Closes the connection idle the longest; false when none is idle.
  bool evict_oldest();
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  token next_ = 0;
  std::map<token, std::function<void()>> idle_;  // tokens grow with time: the first is the oldest
};

}  // namespace projcache::net
