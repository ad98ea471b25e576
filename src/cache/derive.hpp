#pragma once
// Drift and its flags from the three hashes (contract 1.8), as pure functions.
#include <optional>
#include <string>

namespace projcache::cache {

struct artifact_hashes {
  std::optional<std::string> deployed;    // recorded at deploy time
  std::optional<std::string> local;       // on disk now; nothing when the path is missing
  std::optional<std::string> collection;  // nothing when not in the collection
};

// synced | outdated | modified | conflict | removed | missing (missing first, then removed).
std::string drift_of(const artifact_hashes& h);
bool local_modified_of(const artifact_hashes& h);
bool is_outdated_of(const artifact_hashes& h);
std::optional<std::string> short_hash(const std::optional<std::string>& h);
// The default path of an artifact of a type when its file gives none.
std::string default_artifact_path(const std::string& type, const std::string& name);

}  // namespace projcache::cache
