#include "net/router.hpp"

namespace projcache::net {

void router::add(http::verb verb, std::string pattern, handler h) {
  routes_.push_back({verb, std::move(pattern), std::move(h)});
}

bool router::matches(std::string_view pattern, std::string_view path, std::string& param) {
  auto open = pattern.find("{");
  if (open == std::string_view::npos) return pattern == path;
  auto prefix = pattern.substr(0, open);
  auto suffix = pattern.substr(pattern.find('}') + 1);
  if (path.size() <= prefix.size() + suffix.size() || !path.starts_with(prefix) || !path.ends_with(suffix))
    return false;
  auto middle = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  // A trailing "{id}" takes the rest of the path: project ids are standard base64, which has '/'.
  if (!suffix.empty() && middle.find('/') != std::string_view::npos) return false;
  param = std::string(middle);
  return true;
}

router::match router::find(std::string_view path, http::verb verb) const {
  match m;
  for (auto& r : routes_) {
    std::string param;
    if (!matches(r.pattern, path, param)) continue;
    m.path_known = true;
    std::string name(http::to_string(r.verb));
    if (m.allow.find(name) == std::string::npos) m.allow += (m.allow.empty() ? "" : ", ") + name;
    m.pattern = r.pattern;
    if (r.verb == verb && !m.h) {
      m.h = &r.h;
      m.param = std::move(param);
    }
  }
  return m;
}

std::vector<router::entry> router::table() const {
  std::vector<entry> out;
  out.reserve(routes_.size());
  for (auto& r : routes_) out.push_back({r.verb, r.pattern});
  return out;
}

}  // namespace projcache::net
