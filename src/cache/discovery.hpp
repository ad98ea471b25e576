#pragma once
// Finding projects (contract 1.7): folders holding a dot-dir profile root with a
// .skillmeat-deployed.toml, at most max_depth levels below a search root, pruned folders
// skipped, symlinks resolved, loops cut.
#include <filesystem>
#include <string>
#include <vector>

namespace projcache::cache {

inline constexpr const char* deployed_file_name = ".skillmeat-deployed.toml";
inline constexpr const char* project_file_name = ".skillmeat-project.toml";

// The profile roots (".claude", ".codex", ...) of a folder, sorted by name.
std::vector<std::string> profile_roots_of(const std::filesystem::path& folder);
bool is_pruned_folder(const std::string& name);

// Resolved project paths, sorted, without duplicates.
std::vector<std::filesystem::path> discover_projects(
    const std::vector<std::filesystem::path>& search_roots,
    const std::vector<std::filesystem::path>& explicit_projects, int max_depth = 3);

}  // namespace projcache::cache
