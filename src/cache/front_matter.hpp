#pragma once
// The `version:` of a deployed copy's front matter (contract 1.8).
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace projcache::cache {

// The version field of a YAML front matter block at the top of text, if any.
std::optional<std::string> front_matter_version(std::string_view text);
// The main .md of an artifact: the file itself, or in a folder SKILL.md, COMMAND.md, AGENT.md,
// HOOK.md or MCP.md (any case), else the first top-level .md in sorted order.
std::optional<std::filesystem::path> main_markdown(const std::filesystem::path& artifact);
// Reads the main .md's head and extracts the version; nothing when absent or unreadable.
std::optional<std::string> artifact_version(const std::filesystem::path& artifact);

}  // namespace projcache::cache
