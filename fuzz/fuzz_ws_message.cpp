// The WebSocket client message parser. Oracle: a subscribe it accepts has bounded filters.
#include <cstdlib>
#include <string_view>
#include <variant>

#include "net/ws_protocol.hpp"

using namespace projcache::net::ws_protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto m = parse_client_message(std::string_view(reinterpret_cast<const char*>(data), size));
  if (auto* s = std::get_if<subscribe>(&m)) {
    for (auto* f : {&s->types, &s->project_ids}) {
      if (!*f) continue;
      if ((*f)->size() > max_filter_items) std::abort();
      for (auto& id : **f)
        if (id.size() > max_id_bytes) std::abort();
    }
  } else if (auto* b = std::get_if<bad_message>(&m); b && b->detail.empty()) {
    std::abort();
  }
  return 0;
}
