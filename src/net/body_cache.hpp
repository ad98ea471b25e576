#pragma once
// Serialized GET bodies by a canonical key (the route and its parsed, known parameters, so
// `?nocache=N` cannot make new entries), valid for one snapshot generation: between two
// refreshes a repeated request is a lookup, not a JSON build. Bounded by entries and by bytes:
// when full, the entries of older generations go first, then all; a body larger than the
// whole budget is not kept.
#include <cstdint>
#include <initializer_list>
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
  explicit body_cache(std::size_t max_entries = 512, std::size_t max_bytes = 64u << 20)
      : max_(max_entries), max_bytes_(max_bytes) {}
  std::optional<cached_body> find(std::string_view key, std::uint64_t generation) const;
  cached_body put(std::string_view key, std::uint64_t generation, std::string body);
  std::size_t bytes() const;

 private:
  struct entry {
    std::uint64_t generation;
    cached_body value;
  };
  mutable std::mutex mu_;
  void make_room(std::size_t incoming, std::uint64_t generation);
  std::unordered_map<std::string, entry> entries_;
  std::size_t max_, max_bytes_, bytes_ = 0;
};

// The cache key of a GET: its path and the values it was answered for, in a fixed order.
// A parameter not given is written without a value, so it differs from an empty one.
std::string canonical_key(std::string_view path,
                          std::initializer_list<std::pair<std::string_view, std::optional<std::string>>> params);

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
