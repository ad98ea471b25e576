#include "cache/discovery.hpp"

#include <algorithm>
#include <array>
#include <unordered_set>
#include <string_view>

#include "common/paths.hpp"

namespace fs = std::filesystem;

namespace projcache::cache {

bool is_pruned_folder(const std::string& name) {
  static constexpr std::array<std::string_view, 21> pruned{
      "node_modules", ".git",  "venv",   ".venv",  "__pycache__", ".npm", ".cargo",
      ".rustup",      ".cache", ".local", "vendor", "dist",        "build", ".next",
      ".nuxt",        "target", "Pods",   ".gradle", ".hg",        ".svn",  ".tox"};
  return std::find(pruned.begin(), pruned.end(), name) != pruned.end();
}

std::vector<std::string> profile_roots_of(const fs::path& folder) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(folder, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() < 2 || name[0] != '.' || name == "..") continue;
    if (!it->is_directory(ec)) continue;
    if (fs::is_regular_file(it->path() / deployed_file_name, ec)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {
// Folders seen, by their resolved path's text: a hash set, as ordered sets of paths compared
// component by component cost more per folder the more projects there are.
using seen_set = std::unordered_set<std::string>;

void walk(const fs::path& dir, int depth, int max_depth, seen_set& visited, std::vector<fs::path>& found) {
  fs::path real = resolve_path(dir);
  if (!visited.insert(real.native()).second) return;  // symlink loop or second route to a folder
  auto roots = profile_roots_of(dir);
  if (!roots.empty()) found.push_back(real);
  if (depth >= max_depth) return;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (is_pruned_folder(name)) continue;
    if (std::find(roots.begin(), roots.end(), name) != roots.end()) continue;
    std::error_code dec;
    if (!it->is_directory(dec)) continue;
    walk(it->path(), depth + 1, max_depth, visited, found);
  }
}
}  // namespace

std::vector<fs::path> discover_projects(const std::vector<fs::path>& search_roots,
                                        const std::vector<fs::path>& explicit_projects,
                                        int max_depth) {
  seen_set visited;
  std::vector<fs::path> found;
  for (auto& root : search_roots) {
    std::error_code ec;
    if (fs::is_directory(root, ec)) walk(root, 0, max_depth, visited, found);
  }
  for (auto& p : explicit_projects) {
    std::error_code ec;
    if (fs::is_directory(p, ec) && !profile_roots_of(p).empty()) found.push_back(resolve_path(p));
  }
  // In path order (component-wise), each once: sorted once here, not kept sorted.
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  return found;
}

}  // namespace projcache::cache
