#pragma once
// Everything the network layer is configured with.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace projcache::net {

struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8765;
  int threads = 0;  // 0: number of cores
  std::optional<std::string> api_key;
  std::vector<std::string> allowed_hosts;  // besides localhost, 127.0.0.1 and [::1]
  std::vector<std::string> cors_origins{"http://localhost:3000", "http://localhost:3001",
                                        "http://localhost:5173", "http://localhost:8080"};
  std::size_t header_limit = 8 * 1024;
  std::size_t body_limit = 64 * 1024;
  std::chrono::milliseconds request_timeout{10'000};  // to read a whole request once it began
  std::chrono::milliseconds idle_timeout{60'000};     // keep-alive wait for the next request
  std::size_t max_connections = 1024;
  std::size_t ws_queue_messages = 4096;
  std::size_t ws_queue_bytes = 8 * 1024 * 1024;
  std::chrono::milliseconds ws_idle_timeout{30'000};  // pings after half, closed after all
  bool bench_routes = false;  // POST /api/v1/bench/publish, for bench/ only (--bench-routes)
};

}  // namespace projcache::net
