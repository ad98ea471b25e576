#pragma once
// The events of contract section 4: SkillMeat's RefreshEvent plus a sequence number.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace projcache::events {

enum class event_type {
  refresh_started,
  refresh_completed,
  refresh_error,
  changes_detected,
  project_added,
  project_removed,
  cache_rebuilt,
  resync_required,
};

std::string_view to_string(event_type t);
std::optional<event_type> parse_event_type(std::string_view s);

struct event {
  event_type type = event_type::refresh_started;
  std::optional<std::string> project_id;
  bool changes_detected = false;
  std::optional<std::string> error;
  // details: artifact ids, the duration, and any further plain string facts (e.g. a reason)
  std::vector<std::string> added, removed, changed;
  std::optional<double> duration_ms;
  std::vector<std::pair<std::string, std::string>> extra;
};

// Named constructors, so publishers do not fill the bag of fields by hand.
event project_added(std::string project_id, std::string path);
event project_removed(std::string project_id, std::string path);

// An event as published: numbered, stamped and serialized once, shared by every subscriber.
struct published_event {
  std::uint64_t seq = 0;
  event_type type{};
  std::optional<std::string> project_id;
  std::shared_ptr<const std::string> json;
};

// The JSON text of an event; seq null when not given (a per-connection resync_required).
std::string to_json(const event& e, std::optional<std::uint64_t> seq, std::int64_t timestamp_us);

}  // namespace projcache::events
