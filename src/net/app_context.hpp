#pragma once
// What every session and handler of a running server shares.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "cache/queries.hpp"
#include "net/body_cache.hpp"
#include "net/idle_connections.hpp"
#include "net/metrics.hpp"
#include "net/options.hpp"
#include "net/router.hpp"

namespace projcache::cache {
class service;
}
namespace projcache::events {
class bus;
}

namespace projcache::net {

class ws_session;

struct server_stats {
  std::atomic<std::int64_t> connections{0};
  std::atomic<std::int64_t> in_flight{0};
  std::atomic<std::int64_t> subscribers{0};
  std::atomic<std::int64_t> dropped_clients{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> refused_connections{0};
  std::atomic<std::uint64_t> evicted_connections{0};
  std::atomic<std::int64_t> ws_queued_bytes{0};
};

// What /cache/status is made of: its last body is kept while these stay the same.
struct status_inputs {
  cache::status_view status;
  cache::refresh_schedule schedule;
  cache::watcher_state watcher;
  std::int64_t subscribers = 0, dropped_clients = 0;
  bool operator==(const status_inputs&) const = default;
};

struct app_context {
  app_context(cache::service& c, events::bus& b, options o) : cache(c), bus(b), opts(std::move(o)) {}

  cache::service& cache;
  events::bus& bus;
  options opts;
  server_stats stats;
  request_metrics metrics;
  body_cache bodies;
  memo_body<status_inputs> status_body;
  router routes;
  std::atomic<bool> stopping{false};
  idle_connections idle;

  std::mutex ws_mu;
  std::map<std::uint64_t, std::weak_ptr<ws_session>> ws_sessions;
  std::uint64_t next_ws_id = 1;
};

}  // namespace projcache::net
