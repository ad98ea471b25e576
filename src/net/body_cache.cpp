#include "net/body_cache.hpp"

#include "common/fnv.hpp"

namespace projcache::net {

std::string etag_of(std::string_view body) {
  fnv1a h;
  h.update(body.data(), body.size());
  return '"' + h.hex() + '"';
}

std::optional<cached_body> body_cache::find(std::string_view target, std::uint64_t generation) const {
  std::lock_guard lk(mu_);
  auto it = entries_.find(std::string(target));
  if (it == entries_.end() || it->second.generation != generation) return std::nullopt;
  return it->second.value;
}

cached_body make_cached_body(std::string body) {
  cached_body v{std::make_shared<const std::string>(std::move(body)), {}};
  v.etag = etag_of(*v.body);
  return v;
}

cached_body body_cache::put(std::string_view target, std::uint64_t generation, std::string body) {
  auto v = make_cached_body(std::move(body));
  std::lock_guard lk(mu_);
  if (entries_.size() >= max_) entries_.clear();
  entries_[std::string(target)] = entry{generation, v};
  return v;
}

}  // namespace projcache::net
