#include "common/shared_text.hpp"

#include <array>
#include <functional>
#include <mutex>
#include <ostream>
#include <unordered_map>

namespace projcache {

namespace {
// The pool holds one reference to every text it knows. A text whose only holder is the pool is
// dropped by a sweep (under the lock, so nobody can pick it up meanwhile), run whenever a shard
// has doubled since its last one: garbage stays under half of it. Shards by hash, each with its
// own lock: a start-up load interns on every core at once.
struct shard {
  std::mutex mu;
  std::unordered_map<std::string_view, void*> texts;  // the view points into the rep's text
  std::size_t sweep_at = 64;
};
constexpr std::size_t shard_count = 16;
using pool = std::array<shard, shard_count>;
pool& the_pool() {
  static auto* p = new pool;  // never destroyed: texts may outlive static destruction order
  return *p;
}
}  // namespace

shared_text::rep* shared_text::intern_locked(std::string_view s, std::size_t hash) {
  auto& p = the_pool()[(hash >> 16) % shard_count];  // other bits than the front cache's slot
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
    p.sweep_at = std::max<std::size_t>(64, p.texts.size() * 2);
  }
  auto* r = new rep;
  r->text.assign(s);
  r->refs.store(2, std::memory_order_relaxed);  // the pool's and the caller's
  p.texts.emplace(std::string_view(r->text), r);
  return r;
}

// Each thread remembers the texts it interned last, one per slot, holding a reference: a scan
// or a load sets the same project id, root, collection and hashes on row after row, and those
// repeats then cost a hash and a compare, not the pool's lock. A slot also holds references in
// advance (credits, taken in one atomic add): a repeat hands one out without touching the
// shared count, which every core would otherwise bounce between them on a parallel load.
struct shared_text::front_cache {
  static constexpr std::size_t slots = 1024;  // a few hundred texts recur in a cached world
  static constexpr std::size_t batch = 64;
  static constexpr std::size_t largest = 4096;  // bigger texts are not kept: a slot may outlive its last user
  struct slot {
    rep* r = nullptr;
    std::size_t credits = 0;
  };
  std::array<slot, slots> recent{};
  static void drop(slot& s) noexcept {
    if (s.r) s.r->refs.fetch_sub(s.credits + 1, std::memory_order_acq_rel);  // the slot's own, too
    s = {};
  }
  ~front_cache() {
    for (auto& s : recent) drop(s);
  }
};

shared_text::rep* shared_text::intern(std::string_view s) {
  thread_local front_cache cache;
  auto hash = std::hash<std::string_view>{}(s);
  if (s.size() > front_cache::largest) return intern_locked(s, hash);  // not kept alive by a slot
  auto& slot = cache.recent[hash % front_cache::slots];
  if (!slot.r || slot.r->text != s) {
    front_cache::drop(slot);
    slot.r = intern_locked(s, hash);  // the slot's reference
  }
  if (slot.credits == 0) {
    slot.r->refs.fetch_add(front_cache::batch, std::memory_order_relaxed);
    slot.credits = front_cache::batch;
  }
  --slot.credits;
  return slot.r;
}

void shared_text::release(rep* r) noexcept {
  // The pool keeps its own reference, so only the sweep ever frees a text.
  if (r) r->refs.fetch_sub(1, std::memory_order_acq_rel);
}

std::ostream& operator<<(std::ostream& os, const shared_text& t) {
  return t ? os << *t : os << "null";
}

std::size_t shared_text::pool_size() {
  std::size_t n = 0;
  for (auto& p : the_pool()) {
    std::lock_guard lk(p.mu);
    n += p.texts.size();
  }
  return n;
}

}  // namespace projcache
