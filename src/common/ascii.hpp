#pragma once
// ASCII case folding: names, headers and tokens are compared without a locale.
#include <string>
#include <string_view>

namespace projcache {

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace projcache
