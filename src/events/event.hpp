#pragma once
// The events of contract section 4: SkillMeat's RefreshEvent plus a sequence number.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/packed_text.hpp"

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

// What a refresh changed in a project's artifacts (ids), as details.added/removed/changed.
struct artifact_diff {
  std::vector<std::string> added, removed, changed;
};

// Named constructors, one per kind of event, so publishers never fill the fields by hand and
// each kind carries the same details wherever it is raised.
event refresh_started(std::string project_id);
event changes_detected(std::string project_id, artifact_diff diff, double duration_ms);
event refresh_completed(std::string project_id, bool changes_detected, artifact_diff diff, double duration_ms);
event refresh_error(std::string project_id, std::string message, double duration_ms);
// A refresh_error of a source that is not a project (details.source, e.g. "marketplace").
event source_error(std::string source, std::string message);
event project_added(std::string project_id, std::string path);
event project_removed(std::string project_id, std::string path);
event cache_rebuilt(std::string moved_aside, std::string reason, std::size_t projects, bool changes_detected);
event resync_required(std::string reason, bool changes_detected);

// An event as published: numbered, stamped and serialized once, shared by every subscriber.
// Live events carry their JSON; the replay ring keeps a large one deflated instead (packed).
struct published_event {
  std::uint64_t seq = 0;
  event_type type{};
  std::optional<std::string> project_id;
  std::shared_ptr<const std::string> json;
  std::optional<packed_text> packed;

  // The JSON text, inflated when kept packed.
  std::shared_ptr<const std::string> text() const;
  // What keeping it costs the ring.
  std::size_t kept_bytes() const { return json ? json->size() : packed ? packed->packed_bytes() : 0; }
};

// The JSON text of an event; seq null when not given (a per-connection resync_required).
std::string to_json(const event& e, std::optional<std::uint64_t> seq, std::int64_t timestamp_us);

}  // namespace projcache::events
