#include "common/shared_text.hpp"

#include <array>
#include <functional>
#include <mutex>
#include <ostream>
#include <unordered_map>

namespace projcache {

namespace {
// The pool holds one reference to every text it knows. A text whose only holder is the pool is
// dropped by a sweep (under the lock, so nobody can pick it up meanwhile), run whenever the
// pool has doubled since the last one: garbage stays under half of it.
struct pool {
  std::mutex mu;
  std::unordered_map<std::string_view, void*> texts;  // the view points into the rep's text
  std::size_t sweep_at = 1024;
};
pool& the_pool() {
  static auto* p = new pool;  // never destroyed: texts may outlive static destruction order
  return *p;
}
}  // namespace

shared_text::rep* shared_text::intern_locked(std::string_view s) {
  auto& p = the_pool();
  std::lock_guard lk(p.mu);
  if (auto it = p.texts.find(s); it != p.texts.end()) {
    auto* r = static_cast<rep*>(it->second);
    r->refs.fetch_add(1, std::memory_order_relaxed);
    return r;
  }
  if (p.texts.size() >= p.sweep_at) {
    for (auto it = p.texts.begin(); it != p.texts.end();) {
      auto* r = static_cast<rep*>(it->second);
      if (r->refs.load(std::memory_order_acquire) == 1) {
        it = p.texts.erase(it);
        delete r;
      } else {
        ++it;
      }
    }
    p.sweep_at = std::max<std::size_t>(1024, p.texts.size() * 2);
  }
  auto* r = new rep;
  r->text.assign(s);
  r->refs.store(2, std::memory_order_relaxed);  // the pool's and the caller's
  p.texts.emplace(std::string_view(r->text), r);
  return r;
}

// Each thread remembers the texts it interned last, one per slot, holding a reference: a scan
// sets the same project id, root, collection and hashes on row after row, and those repeats
// then cost a hash and a compare, not the pool's lock.
struct shared_text::front_cache {
  static constexpr std::size_t slots = 256;
  std::array<rep*, slots> recent{};
  ~front_cache() {
    for (auto* r : recent) release(r);
  }
};

shared_text::rep* shared_text::intern(std::string_view s) {
  thread_local front_cache cache;
  auto& slot = cache.recent[std::hash<std::string_view>{}(s) % front_cache::slots];
  if (slot && slot->text == s) {
    slot->refs.fetch_add(1, std::memory_order_relaxed);
    return slot;
  }
  auto* r = intern_locked(s);
  retain(r);  // the slot's
  release(slot);
  slot = r;
  return r;
}

void shared_text::release(rep* r) noexcept {
  // The pool keeps its own reference, so only the sweep ever frees a text.
  if (r) r->refs.fetch_sub(1, std::memory_order_acq_rel);
}

std::ostream& operator<<(std::ostream& os, const shared_text& t) {
  return t ? os << *t : os << "null";
}

std::size_t shared_text::pool_size() {
  auto& p = the_pool();
  std::lock_guard lk(p.mu);
  return p.texts.size();
}

}  // namespace projcache
