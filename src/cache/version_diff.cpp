#include "cache/version_diff.hpp"

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

bool ident_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.';
}

// SkillMeat's pattern, by hand: ^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$ after strip().
std::optional<semver> parse(const std::string& raw) {
  std::string_view s = raw;
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  if (!s.empty() && s.front() == 'v') s.remove_prefix(1);
  std::string nums[3];
  for (int k = 0; k < 3; ++k) {
    std::size_t n = 0;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
    if (n == 0) return std::nullopt;
    nums[k] = strip_zeros(std::string(s.substr(0, n)));
    s.remove_prefix(n);
    if (k < 2) {
      if (s.empty() || s.front() != '.') return std::nullopt;
      s.remove_prefix(1);
    }
  }
  semver v{nums[0], nums[1], nums[2], std::nullopt};
  auto ident = [&](char lead) -> std::optional<std::string> {
    if (s.empty() || s.front() != lead) return std::nullopt;
    std::size_t n = 1;
    while (n < s.size() && ident_char(s[n])) ++n;
    if (n == 1) return std::nullopt;
    std::string out(s.substr(1, n - 1));
    s.remove_prefix(n);
    return out;
  };
  if (!s.empty() && s.front() == '-') {
    v.pre = ident('-');
    if (!v.pre) return std::nullopt;
  }
  if (!s.empty() && s.front() == '+' && !ident('+')) return std::nullopt;
  if (!s.empty()) return std::nullopt;
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
