#pragma once
// What a WebSocket client may send (contract section 6), parsed and checked without a session:
// ping, unsubscribe, subscribe with its filters, or a problem to answer with {"op":"error"}.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>

namespace projcache::net::ws_protocol {

struct ping {};
struct unsubscribe {};
struct subscribe {
  std::optional<std::set<std::string>> types, project_ids;  // nothing: every one
  std::optional<std::uint64_t> since;
  std::optional<std::string> epoch;
};
struct bad_message {
  std::string detail;
};
using client_message = std::variant<ping, unsubscribe, subscribe, bad_message>;

// A filter is kept per subscriber for its whole life: bounded, so one cannot cost megabytes.
inline constexpr std::size_t max_filter_items = 1000, max_id_bytes = 4096;

client_message parse_client_message(std::string_view text);

}  // namespace projcache::net::ws_protocol
