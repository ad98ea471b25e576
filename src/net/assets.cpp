#include "net/assets.hpp"

#include <string>
#include <utility>
#include <vector>

namespace projcache::net {

const std::vector<std::pair<std::string_view, std::string_view>>& embedded_assets();

std::optional<asset> find_asset(std::string_view name) {
  for (auto& [n, content] : embedded_assets()) {
    if (n != name) continue;
    std::string_view type = "application/octet-stream";
    if (n.ends_with(".html")) type = "text/html; charset=utf-8";
    else if (n.ends_with(".js")) type = "text/javascript; charset=utf-8";
    else if (n.ends_with(".css")) type = "text/css; charset=utf-8";
    else if (n.ends_with(".svg")) type = "image/svg+xml";
    return asset{content, type};
  }
  return std::nullopt;
}

}  // namespace projcache::net
