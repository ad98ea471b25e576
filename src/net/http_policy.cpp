#include "net/http_policy.hpp"

#include <algorithm>

#include "common/ascii.hpp"
#include "common/base64.hpp"
#include "common/ascii.hpp"
#include "common/base64.hpp"

namespace projcache::net {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The host part of a Host header: "[::1]:8765" -> "[::1]", "localhost:1" -> "localhost".
std::string host_part(std::string_view h) {
  h = trim(h);
  if (h.starts_with("[")) {
    auto end = h.find(']');
    if (end == std::string_view::npos) return {};
    auto rest = h.substr(end + 1);
    if (!rest.empty() && (rest[0] != ':' || rest.size() == 1)) return {};
    return ascii_lower(h.substr(0, end + 1));
  }
  auto colon = h.find(':');
  if (colon != std::string_view::npos) {
    auto port = h.substr(colon + 1);
    if (port.empty() || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return {};
    h = h.substr(0, colon);
  }
  return ascii_lower(h);
}
}  // namespace

bool host_allowed(const options& o, std::string_view host_header) {
  auto h = host_part(host_header);
  if (h.empty()) return false;
  if (h == "localhost" || h == "127.0.0.1" || h == "[::1]") return true;
  return std::any_of(o.allowed_hosts.begin(), o.allowed_hosts.end(),
                     [&](const std::string& a) { return ascii_lower(a) == h; });
}

bool origin_allowed(const options& o, std::string_view origin) {
  return std::find(o.cors_origins.begin(), o.cors_origins.end(), origin) != o.cors_origins.end();
}

bool same_origin(std::string_view origin, std::string_view host_header) {
  host_header = trim(host_header);
  for (std::string_view scheme : {"http://", "https://"})
    if (origin.starts_with(scheme) && ascii_lower(origin.substr(scheme.size())) == ascii_lower(host_header)) return true;
  return false;
}

namespace {
bool loopback_origin(std::string_view origin) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!origin.starts_with(scheme)) continue;
    auto host = ascii_lower(origin.substr(scheme.size()));
    auto bare = host.starts_with("[") ? host.substr(0, host.find(']') + 1) : host.substr(0, host.find(':'));
    return bare == "localhost" || bare == "127.0.0.1" || bare == "[::1]";
  }
  return false;
}
}  // namespace

bool page_origin_allowed(const options& o, std::optional<std::string_view> origin, std::string_view host_header) {
  return !origin || origin_allowed(o, *origin) || same_origin(*origin, host_header) || loopback_origin(*origin);
}

bool is_json_content_type(std::optional<std::string_view> content_type) {
  if (!content_type) return false;
  auto t = ascii_lower(trim(content_type->substr(0, content_type->find(';'))));
  return t == "application/json";
}

bool valid_websocket_key(std::string_view key) {
  auto raw = base64_decode(trim(key));
  return raw && raw->size() == 16;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Compares every byte of the longer input, whatever differs first.
  std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = static_cast<unsigned char>(a.size() != b.size());
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

auth_result check_api_key(const options& o, std::optional<std::string_view> key_header,
                          std::optional<std::string_view> subprotocols, std::string* selected) {
  if (!o.api_key) return auth_result::ok;
  if (key_header) return constant_time_equal(*key_header, *o.api_key) ? auth_result::ok : auth_result::invalid;
  if (subprotocols) {
    std::string_view rest = *subprotocols;
    bool offered = false;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto item = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (!item.starts_with("apikey.")) continue;
      offered = true;
      if (constant_time_equal(item.substr(7), *o.api_key)) {
        if (selected) *selected = std::string(item);
        return auth_result::ok;
      }
    }
    if (offered) return auth_result::invalid;
  }
  return auth_result::missing;
}

}  // namespace projcache::net
