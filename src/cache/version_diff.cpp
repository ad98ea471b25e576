#include "cache/version_diff.hpp"

#include <regex>
#include <string_view>

namespace projcache::cache {

namespace {
struct semver {
  std::string major, minor, patch;  // digits, leading zeros stripped (Python's int())
  std::optional<std::string> pre;
};

std::string strip_zeros(const std::string& d) {
  auto i = d.find_first_not_of('0');
  return i == std::string::npos ? "0" : d.substr(i);
}

// Numeric compare of digit strings of any length.
int cmp_num(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

std::optional<semver> parse(const std::string& raw) {
  static const std::regex re(
      R"(^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z\-\.]+))?(?:\+([0-9A-Za-z\-\.]+))?$)");
  std::string_view s = raw;
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  std::string t(s);
  std::smatch m;
  if (!std::regex_match(t, m, re)) return std::nullopt;
  semver v{strip_zeros(m[1]), strip_zeros(m[2]), strip_zeros(m[3]), std::nullopt};
  if (m[4].matched) v.pre = m[4].str();
  return v;
}

std::string part(const char* name, const std::string& a, const std::string& b) {
  return std::string(name) + " version " + (cmp_num(b, a) > 0 ? "upgrade" : "downgrade") + " (" +
         a + " -> " + b + ")";
}
}  // namespace

std::optional<std::string> version_difference(const std::optional<std::string>& deployed,
                                              const std::optional<std::string>& upstream) {
  if (!deployed || !upstream || deployed->empty() || upstream->empty()) return std::nullopt;
  auto a = parse(*deployed), b = parse(*upstream);
  if (!a || !b) {
    if (*deployed == *upstream) return std::nullopt;
    return *deployed + " -> " + *upstream;
  }
  if (cmp_num(a->major, b->major) != 0) return part("major", a->major, b->major);
  if (cmp_num(a->minor, b->minor) != 0) return part("minor", a->minor, b->minor);
  if (cmp_num(a->patch, b->patch) != 0) return part("patch", a->patch, b->patch);
  if (a->pre != b->pre) {
    if (!a->pre) return "downgrade to pre-release (" + *b->pre + ")";
    if (!b->pre) return "upgrade to stable from pre-release (" + *a->pre + ")";
    return "pre-release change (" + *a->pre + " -> " + *b->pre + ")";
  }
  return std::nullopt;
}

}  // namespace projcache::cache
