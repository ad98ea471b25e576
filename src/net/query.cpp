#include "net/query.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>

namespace json = boost::json;

namespace projcache::net {

query_list parse_target(std::string_view target, std::string& path, bool& ok) {
  query_list out;
  auto u = boost::urls::parse_origin_form(target);
  if (!u) {
    ok = false;
    return out;
  }
  ok = true;
  path = std::string(u->path());
  for (auto p : u->params()) out.emplace_back(std::string(p.key), p.has_value ? std::string(p.value) : std::string());
  return out;
}

std::optional<bool> parse_bool_text(std::string_view s) {
  std::string v(s);
  for (auto& c : v)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (v == "true" || v == "1" || v == "yes" || v == "on" || v == "t" || v == "y") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off" || v == "f" || v == "n") return false;
  return std::nullopt;
}

std::optional<std::string> validator::text(const std::string& name) const {
  std::optional<std::string> v;
  for (auto& [k, val] : q_)
    if (k == name) v = val;  // the last one wins, as in FastAPI
  return v;
}

void validator::add(std::string type, json::array loc, std::string msg, json::value input,
                    std::optional<json::object> ctx) {
  json::object e;
  e["type"] = type;
  e["loc"] = std::move(loc);
  e["msg"] = msg;
  e["input"] = std::move(input);
  if (ctx) e["ctx"] = std::move(*ctx);
  errors_.push_back(std::move(e));
}

std::int64_t validator::integer(const std::string& name, std::int64_t def, std::optional<std::int64_t> ge,
                                std::optional<std::int64_t> le) {
  auto raw = text(name);
  if (!raw) return def;
  std::string_view s = *raw;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  bool digits_only = !s.empty() && p == s.data() + s.size();
  if (ec == std::errc::result_out_of_range && digits_only) {
    v = s.front() == '-' ? INT64_MIN : INT64_MAX;  // huge: fails the range check below
  } else if (ec != std::errc() || !digits_only) {
    add("int_parsing", {"query", name}, "Input should be a valid integer, unable to parse string as an integer", json::value(*raw));
    return def;
  }
  if (ge && v < *ge) {
    add("greater_than_equal", {"query", name}, "Input should be greater than or equal to " + std::to_string(*ge),
        json::value(*raw), json::object{{"ge", *ge}});
    return def;
  }
  if (le && v > *le) {
    add("less_than_equal", {"query", name}, "Input should be less than or equal to " + std::to_string(*le),
        json::value(*raw), json::object{{"le", *le}});
    return def;
  }
  return v;
}

std::optional<bool> validator::boolean(const std::string& name) {
  auto raw = text(name);
  if (!raw) return std::nullopt;
  auto b = parse_bool_text(*raw);
  if (!b)
    add("bool_parsing", {"query", name}, "Input should be a valid boolean, unable to interpret input", json::value(*raw));
  return b;
}

std::optional<std::string> validator::required_text(const std::string& name, std::size_t min_length) {
  auto raw = text(name);
  if (!raw) {
    add("missing", {"query", name}, "Field required", nullptr);
    return std::nullopt;
  }
  if (raw->size() < min_length) {
    add("string_too_short", {"query", name},
        "String should have at least " + std::to_string(min_length) + (min_length == 1 ? " character" : " characters"),
        json::value(*raw), json::object{{"min_length", min_length}});
    return std::nullopt;
  }
  return raw;
}

body_fields parse_body(std::string_view body, validator& v, bool required, bool read_force) {
  body_fields out;
  bool blank = body.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank) {
    if (required) v.add("missing", {"body"}, "Field required", nullptr);
    return out;
  }
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec) {
    v.add("json_invalid", {"body", 0}, "JSON decode error", json::object{}, json::object{{"error", ec.message()}});
    return out;
  }
  if (!doc.is_object()) {
    v.add("model_attributes_type", {"body"}, "Input should be a valid dictionary or object to extract fields from", doc);
    return out;
  }
  auto& o = doc.as_object();
  if (auto it = o.find("project_id"); it != o.end() && !it->value().is_null()) {
    if (it->value().is_string())
      out.project_id = std::string(it->value().as_string());
    else
      v.add("string_type", {"body", "project_id"}, "Input should be a valid string", it->value());
  }
  if (auto it = o.find("force"); read_force && it != o.end()) {
    const auto& f = it->value();
    if (f.is_bool()) {
      out.force = f.as_bool();
    } else if (f.is_int64() && (f.as_int64() == 0 || f.as_int64() == 1)) {
      out.force = f.as_int64() == 1;
    } else if (f.is_string() && parse_bool_text(f.as_string())) {
      out.force = *parse_bool_text(f.as_string());
    } else if (f.is_string() || f.is_number()) {
      v.add("bool_parsing", {"body", "force"}, "Input should be a valid boolean, unable to interpret input", f);
    } else {
      v.add("bool_type", {"body", "force"}, "Input should be a valid boolean", f);
    }
  }
  return out;
}


}  // namespace projcache::net
