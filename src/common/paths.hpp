#pragma once
// Paths and project ids: what the cache, the API and the CLI each need of a path (contract 1.8's
// project id, "~" expansion, resolving, a relative path that stays inside its base).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace projcache {

// The project id of contract 1.8: standard base64 (with padding) of the resolved path.
std::string project_id_of(const std::filesystem::path& resolved);
// The absolute path a project id names, when the id is the base64 of an absolute path.
std::optional<std::filesystem::path> path_of_project_id(std::string_view id);
// Resolves symlinks; falls back to an absolute, normalized path when it cannot.
std::filesystem::path resolve_path(const std::filesystem::path& p);
// A relative path that stays inside its base ("a/b", not "/x", "../x" or "").
bool safe_relative_path(std::string_view rel);
// "~" and "~/x" expanded with $HOME.
std::filesystem::path expand_home(const std::string& p);
// A file's size in bytes; 0 when it does not exist (a WAL between checkpoints, say).
std::int64_t file_bytes(const std::filesystem::path& p);

}  // namespace projcache
