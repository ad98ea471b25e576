#pragma once
// Serialized GET bodies by request target, valid for one snapshot generation: between two
// refreshes a repeated request is a lookup and a copy, not a JSON build. Bounded; cleared whole
// when full.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace projcache::net {

struct cached_body {
  std::shared_ptr<const std::string> body;
  std::string etag;
};

class body_cache {
 public:
  explicit body_cache(std::size_t max_entries = 512) : max_(max_entries) {}
  std::optional<cached_body> find(std::string_view target, std::uint64_t generation) const;
  cached_body put(std::string_view target, std::uint64_t generation, std::string body);

 private:
  struct entry {
    std::uint64_t generation;
    cached_body value;
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, entry> entries_;
  std::size_t max_;
};

std::string etag_of(std::string_view body);
// A serialized body, shared, with its ETag.
cached_body make_cached_body(std::string body);

// One body kept with the inputs it was built from, for a route whose body depends on more than
// the generation (status: the clock, counters): a repeat is a comparison, not a JSON build.
template <class Inputs>
class memo_body {
 public:
  std::optional<cached_body> find(const Inputs& inputs) const {
    std::lock_guard lk(mu_);
    if (!value_ || !(inputs == inputs_)) return std::nullopt;
    return value_;
  }
  cached_body put(Inputs inputs, std::string body) {
    auto v = make_cached_body(std::move(body));
    std::lock_guard lk(mu_);
    inputs_ = std::move(inputs);
    value_ = v;
    return v;
  }

 private:
  mutable std::mutex mu_;
  Inputs inputs_{};
  std::optional<cached_body> value_;
};

}  // namespace projcache::net
