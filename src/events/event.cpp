#include "events/event.hpp"

#include <array>
#include <boost/json.hpp>

#include "common/time_format.hpp"
#include "common/json_text.hpp"

namespace projcache::events {

namespace {
constexpr std::array<std::pair<event_type, std::string_view>, 8> names{{
    {event_type::refresh_started, "refresh_started"},
    {event_type::refresh_completed, "refresh_completed"},
    {event_type::refresh_error, "refresh_error"},
    {event_type::changes_detected, "changes_detected"},
    {event_type::project_added, "project_added"},
    {event_type::project_removed, "project_removed"},
    {event_type::cache_rebuilt, "cache_rebuilt"},
    {event_type::resync_required, "resync_required"},
}};

boost::json::array to_array(const std::vector<std::string>& v) {
  boost::json::array a;
  a.reserve(v.size());
  for (auto& s : v) a.emplace_back(s);
  return a;
}
}  // namespace

std::string_view to_string(event_type t) {
  for (auto& [k, v] : names)
    if (k == t) return v;
  return "unknown";
}

std::optional<event_type> parse_event_type(std::string_view s) {
  for (auto& [k, v] : names)
    if (v == s) return k;
  return std::nullopt;
}

namespace {
event membership(event_type t, std::string project_id, std::string path) {
  event e;
  e.type = t;
  e.project_id = std::move(project_id);
  e.changes_detected = true;
  e.extra = {{"path", std::move(path)}};
  return e;
}
}  // namespace

event refresh_started(std::string project_id) {
  event e;
  e.type = event_type::refresh_started;
  e.project_id = std::move(project_id);
  return e;
}

namespace {
event with_diff(event_type t, std::string project_id, bool changes, artifact_diff diff, double duration_ms) {
  event e;
  e.type = t;
  e.project_id = std::move(project_id);
  e.changes_detected = changes;
  e.added = std::move(diff.added);
  e.removed = std::move(diff.removed);
  e.changed = std::move(diff.changed);
  e.duration_ms = duration_ms;
  return e;
}
}  // namespace

event changes_detected(std::string project_id, artifact_diff diff, double duration_ms) {
  return with_diff(event_type::changes_detected, std::move(project_id), true, std::move(diff), duration_ms);
}

event refresh_completed(std::string project_id, bool changes_detected, artifact_diff diff, double duration_ms) {
  return with_diff(event_type::refresh_completed, std::move(project_id), changes_detected, std::move(diff),
                   duration_ms);
}

event refresh_error(std::string project_id, std::string message, double duration_ms) {
  event e;
  e.type = event_type::refresh_error;
  e.project_id = std::move(project_id);
  e.error = std::move(message);
  e.duration_ms = duration_ms;
  return e;
}

event source_error(std::string source, std::string message) {
  event e;
  e.type = event_type::refresh_error;
  e.error = std::move(message);
  e.extra = {{"source", std::move(source)}};
  return e;
}

event cache_rebuilt(std::string moved_aside, std::string reason, std::size_t projects, bool changes_detected) {
  event e;
  e.type = event_type::cache_rebuilt;
  e.changes_detected = changes_detected;
  e.extra = {{"moved_aside", std::move(moved_aside)}, {"reason", std::move(reason)},
             {"projects", std::to_string(projects)}};
  return e;
}

event resync_required(std::string reason, bool changes_detected) {
  event e;
  e.type = event_type::resync_required;
  e.changes_detected = changes_detected;
  e.extra = {{"reason", std::move(reason)}};
  return e;
}

event project_added(std::string project_id, std::string path) {
  return membership(event_type::project_added, std::move(project_id), std::move(path));
}

event project_removed(std::string project_id, std::string path) {
  return membership(event_type::project_removed, std::move(project_id), std::move(path));
}

std::string to_json(const event& e, std::optional<std::uint64_t> seq, std::int64_t timestamp_us) {
  boost::json::object details;
  details["added"] = to_array(e.added);
  details["removed"] = to_array(e.removed);
  details["changed"] = to_array(e.changed);
  if (e.duration_ms) details["duration_ms"] = *e.duration_ms;
  for (auto& [k, v] : e.extra) details[k] = v;

  boost::json::object o;
  if (seq)
    o["seq"] = *seq;
  else
    o["seq"] = nullptr;
  o["type"] = to_string(e.type);
  o["timestamp"] = format_api_time(timestamp_us);
  if (e.project_id)
    o["project_id"] = *e.project_id;
  else
    o["project_id"] = nullptr;
  o["changes_detected"] = e.changes_detected;
  if (e.error)
    o["error"] = *e.error;
  else
    o["error"] = nullptr;
  o["details"] = std::move(details);
  return to_json_text(o);
}

std::shared_ptr<const std::string> published_event::text() const {
  if (json) return json;
  return std::make_shared<const std::string>(packed ? packed->unpack() : std::string());
}

}  // namespace projcache::events
