#pragma once
// Request metrics by route pattern and status, with latency histograms, rendered with the
// cache's own counters in Prometheus text format (GET /metrics).
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace projcache::net {

struct app_context;

class request_metrics {
 public:
  static constexpr std::array<double, 14> buckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                  0.025,  0.05,    0.1,    0.25,  0.5,    1.0,  2.5};
  void record(std::string_view route, unsigned status, double seconds);
  std::string render() const;

 private:
  struct series {
    std::uint64_t count = 0;
    double sum = 0;
    std::array<std::uint64_t, buckets.size()> le{};
  };
  mutable std::mutex mu_;
  // By route, then status; looked up by string_view, so recording allocates nothing.
  std::map<std::string, std::map<unsigned, series>, std::less<>> series_;
};

std::string render_metrics(app_context& app);

}  // namespace projcache::net
