#include "events/bus.hpp"

#include <random>

#include "common/time_format.hpp"

namespace projcache::events {

namespace {
std::string random_epoch() {
  std::random_device rd;
  std::uniform_int_distribution<int> hex(0, 15);
  std::string s(16, '0');
  for (auto& ch : s) ch = "0123456789abcdef"[hex(rd)];
  return s;
}
}  // namespace

bus::bus(std::size_t ring_capacity, std::size_t ring_bytes)
    : capacity_(ring_capacity ? ring_capacity : 1), max_bytes_(ring_bytes), epoch_(random_epoch()) {}

std::uint64_t bus::publish(const event& e) {
  std::lock_guard lk(mu_);
  auto p = std::make_shared<published_event>();
  p->seq = ++seq_;
  p->type = e.type;
  p->project_id = e.project_id;
  auto text = to_json(e, p->seq, now_micros());
  text.shrink_to_fit();  // built by appending, its capacity is up to twice its size: the ring keeps it
  p->json = std::make_shared<const std::string>(std::move(text));
  event_ptr ev = std::move(p);
  ring_.push_back(ev);
  bytes_ += ev->kept_bytes();
  // The newest is always kept: a client asking since before it gets resync_required.
  while (ring_.size() > capacity_ || (bytes_ > max_bytes_ && ring_.size() > 1)) {
    bytes_ -= ring_.front()->kept_bytes();
    ring_.pop_front();
  }
  for (auto& [id, h] : handlers_) h(ev);
  pack_newest();
  return ev->seq;
}

void bus::pack_newest() {
  // Every subscriber has the live copy by now; what stays for replay may be smaller.
  auto& kept = ring_.back();
  if (kept->json->size() < pack_from_bytes) return;
  auto packed = packer_.pack(*kept->json);
  if (!packed) return;
  auto p = std::make_shared<published_event>();
  p->seq = kept->seq;
  p->type = kept->type;
  p->project_id = kept->project_id;
  p->packed = std::move(packed);
  bytes_ -= kept->kept_bytes();
  bytes_ += p->kept_bytes();
  kept = std::move(p);
}

std::pair<std::uint64_t, replay> bus::subscribe(handler h, std::optional<std::uint64_t> since) {
  std::lock_guard lk(mu_);
  replay r;
  r.current_seq = seq_;
  if (since) r = events_after_locked(*since);
  auto id = next_id_++;
  handlers_.emplace(id, std::move(h));
  return {id, std::move(r)};
}

void bus::unsubscribe(std::uint64_t id) {
  std::lock_guard lk(mu_);
  handlers_.erase(id);
}

replay bus::events_after(std::uint64_t since) const {
  std::lock_guard lk(mu_);
  return events_after_locked(since);
}

replay bus::events_after_locked(std::uint64_t since) const {
  replay r;
  r.current_seq = seq_;
  std::uint64_t oldest = ring_.empty() ? seq_ + 1 : ring_.front()->seq;
  if (since > seq_ || since + 1 < oldest) {
    r.too_old = true;
    r.from_future = since > seq_;
    return r;
  }
  for (auto& e : ring_)
    if (e->seq > since) r.events.push_back(e);
  return r;
}

std::uint64_t bus::current_seq() const {
  std::lock_guard lk(mu_);
  return seq_;
}

std::size_t bus::ring_bytes() const {
  std::lock_guard lk(mu_);
  return bytes_;
}

std::size_t bus::subscriber_count() const {
  std::lock_guard lk(mu_);
  return handlers_.size();
}

}  // namespace projcache::events
