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

}  // namespace projcache::events
