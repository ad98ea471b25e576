#pragma once
// SkillMeat's VersionComparator.get_version_difference (contract section 5).
#include <optional>
#include <string>

namespace projcache::cache {

std::optional<std::string> version_difference(const std::optional<std::string>& deployed,
                                              const std::optional<std::string>& upstream);

}  // namespace projcache::cache
