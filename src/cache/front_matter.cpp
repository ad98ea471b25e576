#include "cache/front_matter.hpp"

#include <algorithm>
#include <fstream>
#include <vector>

#include "common/ascii.hpp"

namespace fs = std::filesystem;

namespace projcache::cache {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}
}  // namespace

std::optional<std::string> front_matter_version(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  auto next_line = [&](std::string_view& rest) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  std::string_view rest = text;
  if (trim(next_line(rest)) != "---") return std::nullopt;
  while (!rest.empty()) {
    std::string_view line = next_line(rest);
    if (trim(line) == "---" || trim(line) == "...") return std::nullopt;
    if (!line.starts_with("version:")) continue;  // top level only: no indentation
    std::string_view v = trim(line.substr(8));
    if (!v.empty() && (v.front() == '"' || v.front() == '\'')) {
      char q = v.front();
      auto end = v.find(q, 1);
      v = end == std::string_view::npos ? v.substr(1) : v.substr(1, end - 1);
    } else if (auto hash = v.find(" #"); hash != std::string_view::npos) {
      v = trim(v.substr(0, hash));
    }
    if (v.empty()) return std::nullopt;
    return std::string(v);
  }
  return std::nullopt;
}

std::optional<fs::path> main_markdown(const fs::path& artifact) {
  std::error_code ec;
  if (fs::is_regular_file(artifact, ec)) return artifact;
  if (!fs::is_directory(artifact, ec)) return std::nullopt;
  std::vector<fs::path> mds;
  for (auto it = fs::directory_iterator(artifact, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string name = it->path().filename().string();
    if (ascii_lower(name).ends_with(".md")) mds.push_back(it->path());
  }
  std::sort(mds.begin(), mds.end());
  for (const char* want : {"skill.md", "command.md", "agent.md", "hook.md", "mcp.md"})
    for (auto& p : mds)
      if (ascii_lower(p.filename().string()) == want) return p;
  if (!mds.empty()) return mds.front();
  return std::nullopt;
}

std::optional<std::string> artifact_version(const fs::path& artifact) {
  auto md = main_markdown(artifact);
  if (!md) return std::nullopt;
  std::ifstream in(*md, std::ios::binary);
  if (!in) return std::nullopt;
  std::string head(16 * 1024, '\0');  // the front matter is at the top
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return front_matter_version(head);
}

}  // namespace projcache::cache
