#include "app/start_undo.hpp"

#include <algorithm>

namespace fs = std::filesystem;

namespace projcache::app {

void start_undo::note(const fs::path& p) {
  std::error_code ec;
  fs::path missing, at = fs::absolute(p, ec);
  if (ec) return;
  while (!at.empty() && !fs::exists(fs::symlink_status(at, ec))) {
    missing = at;
    if (at == at.parent_path()) break;
    at = at.parent_path();
  }
  if (!missing.empty() && std::find(created_.begin(), created_.end(), missing) == created_.end())
    created_.push_back(missing);
}

start_undo::~start_undo() {
  std::error_code ec;
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) fs::remove_all(*it, ec);
}

}  // namespace projcache::app
