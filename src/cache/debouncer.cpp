#include "cache/debouncer.hpp"

#include <algorithm>

namespace projcache::cache {

void debounce_schedule::touch(const debounce_key& k, clock::time_point now) {
  auto [it, fresh] = pending_.try_emplace(k, entry{now, now});
  it->second.deadline = std::min(now + debounce_, it->second.first + max_wait_);
}

std::vector<debounce_key> debounce_schedule::take_due(clock::time_point now) {
  std::vector<std::pair<clock::time_point, debounce_key>> due;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline <= now) {
      due.emplace_back(it->second.deadline, it->first);
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  std::stable_sort(due.begin(), due.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::vector<debounce_key> out;
  out.reserve(due.size());
  for (auto& [_, k] : due) out.push_back(std::move(k));
  return out;
}

std::optional<debounce_schedule::clock::time_point> debounce_schedule::next_deadline() const {
  std::optional<clock::time_point> next;
  for (auto& [_, e] : pending_)
    if (!next || e.deadline < *next) next = e.deadline;
  return next;
}

debouncer::debouncer(strand_type& strand, std::chrono::milliseconds debounce, fire_fn fire)
    : timer_(strand), schedule_(debounce, max_wait), fire_(std::move(fire)) {}

void debouncer::touch(const debounce_key& k) {
  schedule_.touch(k, debounce_schedule::clock::now());
  pending_ = schedule_.pending();
  arm();
}

void debouncer::stop() {
  timer_.cancel();
  schedule_.clear();
  armed_for_.reset();
  pending_ = 0;
}

// One timer for every key, set to the earliest deadline; re-set only when that moves.
void debouncer::arm() {
  auto next = schedule_.next_deadline();
  if (!next || next == armed_for_) return;
  armed_for_ = next;
  timer_.expires_at(*next);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // re-armed or stopped
    armed_for_.reset();
    auto due = schedule_.take_due(debounce_schedule::clock::now());
    pending_ = schedule_.pending();
    for (auto& k : due) fire_(k);
    arm();
  });
}

}  // namespace projcache::cache
