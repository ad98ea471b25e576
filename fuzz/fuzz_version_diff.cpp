// SkillMeat's version difference (contract section 5). The first byte says which side is
// absent; the rest is "deployed\nupstream". Oracles: nothing when a side is missing or both are
// equal; a numeric upgrade one way is the same part's downgrade the other way.
#include <cstdlib>
#include <optional>
#include <regex>
#include <string>

#include "cache/version_diff.hpp"

using projcache::cache::version_difference;

namespace {
bool semver(const std::string& s) {
  static const std::regex re(R"(^[ \t\n\r\f\v]*v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?[ \t\n\r\f\v]*$)");
  return std::regex_match(s, re);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  auto nl = rest.find('\n');
  std::optional<std::string> deployed = rest.substr(0, nl), upstream;
  if (nl != std::string::npos) upstream = rest.substr(nl + 1);
  if (data[0] & 1) deployed.reset();
  if (data[0] & 2) upstream.reset();
  auto d = version_difference(deployed, upstream);
  if (d && (!deployed || !upstream || *deployed == *upstream)) std::abort();
  if (!d && deployed && upstream && !deployed->empty() && !upstream->empty() && *deployed != *upstream) {
    // Different texts with no difference: only semver spellings of the same version ("v1.0.0", "1.0.0+b").
    auto back = version_difference(upstream, deployed);
    if (back) std::abort();
  }
  // Only between two semver versions (SkillMeat's pattern, written independently here): the
  // free-text form "a -> b" may contain any words of its inputs.
  if (!deployed || !upstream || !semver(*deployed) || !semver(*upstream)) return 0;
  for (std::string part : {"major version", "minor version", "patch version"}) {
    if (!d || !d->starts_with(part + " upgrade (")) continue;
    auto back = version_difference(upstream, deployed);
    if (!back || !back->starts_with(part + " downgrade (")) std::abort();
  }
  return 0;
}
