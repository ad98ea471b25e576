#include "cache/derive.hpp"

namespace projcache::cache {

std::string drift_of(const artifact_hashes& h) {
  if (!h.local) return "missing";
  if (!h.collection) return "removed";
  bool local_same = h.local == h.deployed, collection_same = h.collection == h.deployed;
  if (local_same && collection_same) return "synced";
  if (local_same) return "outdated";
  if (collection_same) return "modified";
  return "conflict";
}

bool local_modified_of(const artifact_hashes& h) { return h.local && h.local != h.deployed; }

bool is_outdated_of(const artifact_hashes& h) {
  return h.local && h.collection && h.collection != h.deployed;
}

std::optional<std::string> short_hash(const std::optional<std::string>& h) {
  if (!h) return std::nullopt;
  return h->substr(0, 12);
}

std::string default_artifact_path(const std::string& type, const std::string& name) {
  if (type == "skill") return "skills/" + name;
  if (type == "command") return "commands/" + name + ".md";
  if (type == "agent") return "agents/" + name + ".md";
  if (type == "hook") return "hooks/" + name;
  if (type == "mcp" || type == "mcp_server") return "mcp/" + name;
  return type + "s/" + name;
}

}  // namespace projcache::cache
