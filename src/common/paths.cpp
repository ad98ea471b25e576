#include "common/paths.hpp"

#include <algorithm>
#include <cstdlib>

#include "common/base64.hpp"

namespace projcache {

std::optional<std::filesystem::path> path_of_project_id(std::string_view id) {
  auto raw = base64_decode(id);
  // Only the canonical encoding: another spelling of the same bytes is not that project's id.
  if (!raw || raw->empty() || raw->front() != '/' || raw->find('\0') != std::string::npos || base64_encode(*raw) != id)
    return std::nullopt;
  return std::filesystem::path(*raw);
}

std::string project_id_of(const std::filesystem::path& resolved) {
  return base64_encode(resolved.string());
}

std::filesystem::path resolve_path(const std::filesystem::path& p) {
  std::error_code ec;
  auto r = std::filesystem::canonical(p, ec);
  if (!ec) return r;
  return std::filesystem::absolute(p, ec).lexically_normal();
}

std::filesystem::path expand_home(const std::string& p) {
  if (p == "~" || p.starts_with("~/")) {
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home ? home : "/") / p.substr(p.size() > 1 ? 2 : 1);
  }
  return p;
}

bool safe_relative_path(std::string_view rel) {
  // POSIX paths (the platforms we build for have no root names): absolute is a leading '/',
  // and a ".." component is one between slashes. Read in place, as a scan does for every
  // artifact: building a std::filesystem::path to walk its components was 3% of a refresh.
  if (rel.empty() || rel.front() == '/' || rel.find('\0') != std::string_view::npos) return false;
  for (std::size_t start = 0; start <= rel.size();) {
    std::size_t end = std::min(rel.find('/', start), rel.size());
    if (rel.substr(start, end - start) == "..") return false;
    start = end + 1;
  }
  return true;
}

std::int64_t file_bytes(const std::filesystem::path& p) {
  std::error_code ec;
  auto n = std::filesystem::file_size(p, ec);
  return ec ? 0 : static_cast<std::int64_t>(n);
}

}  // namespace projcache
