#pragma once
// Small helpers of the world model: ids, case folding, paths.
#include <filesystem>

#include "common/ascii.hpp"
#include <optional>
#include <string>
#include <string_view>

namespace projcache::cache {

std::string base64_encode(std::string_view in);
// Strict standard base64 (padding required, the bits padding drops zero): each byte string has
// one spelling. Nothing when the text is not that.
std::optional<std::string> base64_decode(std::string_view in);
using ::projcache::ascii_lower;  // common/ascii.hpp
// The project id of contract 1.8: standard base64 (with padding) of the resolved path.
std::string project_id_of(const std::filesystem::path& resolved);
// Resolves symlinks; falls back to an absolute, normalized path when it cannot.
std::filesystem::path resolve_path(const std::filesystem::path& p);
// The absolute path a project id names, when the id is the base64 of an absolute path.
std::optional<std::filesystem::path> path_of_project_id(std::string_view id);
// A relative path that stays inside its base ("a/b", not "/x", "../x" or "").
bool safe_relative_path(std::string_view rel);
// "~" and "~/x" expanded with $HOME.
std::filesystem::path expand_home(const std::string& p);

}  // namespace projcache::cache
