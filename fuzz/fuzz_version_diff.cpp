// SkillMeat's version difference (contract section 5). The first byte says which side is
// absent; the rest is "deployed\nupstream". Oracles: nothing when a side is missing or both are
// equal; a numeric upgrade one way is the same part's downgrade the other way.
#include <cstdlib>
#include <optional>
#include <string>

#include "cache/version_diff.hpp"

using projcache::cache::version_difference;

namespace {
bool has(const std::optional<std::string>& s, const char* what) { return s && s->find(what) != std::string::npos; }
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
  for (auto* part : {"major version", "minor version", "patch version"}) {
    auto back = version_difference(upstream, deployed);
    if (has(d, part) && has(d, "upgrade") && !(has(back, part) && has(back, "downgrade"))) std::abort();
  }
  return 0;
}
