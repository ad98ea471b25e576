#include "net/ws_protocol.hpp"

#include <boost/json.hpp>

#include "events/event.hpp"

namespace json = boost::json;

namespace projcache::net::ws_protocol {

namespace {
// An absent or null key leaves `out` empty; false when the value is not a bounded string array.
bool string_set(const json::object& o, const char* key, std::optional<std::set<std::string>>& out) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return true;
  if (!it->value().is_array() || it->value().as_array().size() > max_filter_items) return false;
  out.emplace();
  for (auto& v : it->value().as_array()) {
    if (!v.is_string() || v.as_string().size() > max_id_bytes) return false;
    out->insert(std::string(v.as_string()));
  }
  return true;
}

client_message parse_subscribe(const json::object& o) {
  subscribe s;
  if (!string_set(o, "types", s.types)) return bad_message{"\"types\" must be an array of at most 1000 strings"};
  if (!string_set(o, "project_ids", s.project_ids))
    return bad_message{"\"project_ids\" must be an array of at most 1000 project ids"};
  if (s.types)
    for (auto& t : *s.types)
      if (!events::parse_event_type(t)) return bad_message{"unknown event type \"" + t + "\""};
  if (auto it = o.find("since"); it != o.end() && !it->value().is_null()) {
    const auto& v = it->value();
    if (v.is_uint64()) s.since = v.as_uint64();
    else if (v.is_int64() && v.as_int64() >= 0) s.since = static_cast<std::uint64_t>(v.as_int64());
    else return bad_message{"\"since\" must be a non-negative integer"};
  }
  if (auto it = o.find("epoch"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_string()) return bad_message{"\"epoch\" must be a string"};
    s.epoch = std::string(it->value().as_string());
  }
  return s;
}
}  // namespace

client_message parse_client_message(std::string_view text) {
  boost::system::error_code ec;
  auto doc = json::parse(text, ec);
  if (ec || !doc.is_object()) return bad_message{"message must be a JSON object"};
  auto& o = doc.as_object();
  auto op = o.find("op");
  if (op == o.end() || !op->value().is_string()) return bad_message{"missing \"op\""};
  auto name = op->value().as_string();
  if (name == "ping") return ping{};
  if (name == "unsubscribe") return unsubscribe{};
  if (name == "subscribe") return parse_subscribe(o);
  return bad_message{"unknown op \"" + std::string(name) + "\""};
}

}  // namespace projcache::net::ws_protocol
