#pragma once
// The dashboard's files, compiled into the binary (src/net/assets/).
#include <optional>
#include <string_view>

namespace projcache::net {

struct asset {
  std::string_view content;
  std::string_view content_type;
};
std::optional<asset> find_asset(std::string_view name);

}  // namespace projcache::net
