#include "net/body_cache.hpp"

#include "common/fnv.hpp"

namespace projcache::net {

std::string etag_of(std::string_view body) {
  fnv1a h;
  h.update(body.data(), body.size());
  return '"' + h.hex() + '"';
}

std::optional<cached_body> body_cache::find(std::string_view key, std::uint64_t generation) const {
  std::lock_guard lk(mu_);
  auto it = entries_.find(std::string(key));
  if (it == entries_.end() || it->second.generation != generation) return std::nullopt;
  return it->second.value;
}

cached_body make_cached_body(std::string body) {
  cached_body v{std::make_shared<const std::string>(std::move(body)), {}};
  v.etag = etag_of(*v.body);
  return v;
}

void body_cache::make_room(std::size_t incoming, std::uint64_t generation) {
  if (entries_.size() < max_ && bytes_ + incoming <= max_bytes_) return;
  for (auto it = entries_.begin(); it != entries_.end();) {  // another generation's: dead anyway
    if (it->second.generation != generation) {
      bytes_ -= it->second.value.body->size();
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  if (entries_.size() >= max_ || bytes_ + incoming > max_bytes_) {
    entries_.clear();
    bytes_ = 0;
  }
}

cached_body body_cache::put(std::string_view key, std::uint64_t generation, std::string body) {
  auto v = make_cached_body(std::move(body));
  std::size_t size = v.body->size();
  if (size > max_bytes_) return v;  // served, not kept
  std::lock_guard lk(mu_);
  if (auto it = entries_.find(std::string(key)); it != entries_.end()) {
    bytes_ -= it->second.value.body->size();
    entries_.erase(it);
  }
  make_room(size, generation);
  entries_[std::string(key)] = entry{generation, v};
  bytes_ += size;
  return v;
}

std::size_t body_cache::bytes() const {
  std::lock_guard lk(mu_);
  return bytes_;
}

std::string canonical_key(std::string_view path,
                          std::initializer_list<std::pair<std::string_view, std::optional<std::string>>> params) {
  std::string key(path);
  char sep = '?';
  for (auto& [name, value] : params) {
    key += sep;
    key += name;
    sep = '&';
    if (!value) continue;
    // Lengths, not separators: no value can fake another parameter.
    key += '=';
    key += std::to_string(value->size());
    key += ':';
    key += *value;
  }
  return key;
}

}  // namespace projcache::net
