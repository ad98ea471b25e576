#pragma once
// In-process event bus: numbers each event (seq from 1 per run, with a random epoch per run),
// serializes it once, keeps the last N in a ring for replay, and hands it to every subscriber.
// Handlers run under the bus lock, in seq order, and must only enqueue (post to a strand):
// they must not block and must not call back into the bus.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "events/event.hpp"

namespace projcache::events {

using event_ptr = std::shared_ptr<const published_event>;

struct replay {
  bool too_old = false;  // since is older than the ring holds (or from the future)
  bool from_future = false;  // since is past the newest seq: not from this run
  std::vector<event_ptr> events;
  std::uint64_t current_seq = 0;
};

class bus {
 public:
  using handler = std::function<void(const event_ptr&)>;
  // The ring keeps at most ring_capacity events and ring_bytes of their JSON: 10,000 ordinary
  // events (about 300 bytes each) fit many times over, a refresh that changed 17,000 artifacts
  // (an event of about 1 MB) cannot make it hold gigabytes. Events of pack_from_bytes or more
  // are kept deflated (their artifact ids share long prefixes): a cold scan's thousands of
  // them then cost the ring a fraction of their size.
  explicit bus(std::size_t ring_capacity = 10000, std::size_t ring_bytes = 32u << 20);

  std::uint64_t publish(const event& e);
  // Registers h; when since is given, the events after it are returned for replay, and h gets
  // exactly the events after those: no gap, no duplicate.
  std::pair<std::uint64_t, replay> subscribe(handler h, std::optional<std::uint64_t> since = {});
  void unsubscribe(std::uint64_t id);

  replay events_after(std::uint64_t since) const;
  std::uint64_t current_seq() const;
  std::size_t subscriber_count() const;
  std::size_t ring_bytes() const;
  const std::string& epoch() const { return epoch_; }

 private:
  static constexpr std::size_t pack_from_bytes = 1024;
  replay events_after_locked(std::uint64_t since) const;
  void pack_newest();

  mutable std::mutex mu_;
  std::size_t capacity_, max_bytes_, bytes_ = 0;
  std::deque<event_ptr> ring_;
  packed_text::packer packer_;
  std::uint64_t seq_ = 0;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, handler> handlers_;
  std::string epoch_;
};

}  // namespace projcache::events
