#pragma once
// FNV-1a 64: a cheap change detector (ETags, stat-listing digests), not a content hash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace projcache {

class fnv1a {
 public:
  void update(const void* p, std::size_t n) {
    auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h_ = (h_ ^ b[i]) * 1099511628211ULL;
  }
  std::uint64_t value() const { return h_; }
  std::string hex() const {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
    return buf;
  }

 private:
  std::uint64_t h_ = 1469598103934665603ULL;
};

}  // namespace projcache
