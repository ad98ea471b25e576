#pragma once
// Query and body validation with FastAPI's (pydantic v2) error shapes, so SkillMeat's clients
// read our 422s as they read its own.
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace projcache::net {

using query_list = std::vector<std::pair<std::string, std::string>>;

// Decoded (key, value) pairs of a request target's query; the path is returned in path.
query_list parse_target(std::string_view target, std::string& path, bool& ok);

class validator {
 public:
  explicit validator(const query_list& q) : q_(q) {}
  std::optional<std::string> text(const std::string& name) const;
  std::int64_t integer(const std::string& name, std::int64_t def, std::optional<std::int64_t> ge,
                       std::optional<std::int64_t> le);
  std::optional<bool> boolean(const std::string& name);
  std::optional<std::string> required_text(const std::string& name, std::size_t min_length);

  void add(std::string type, boost::json::array loc, std::string msg, boost::json::value input,
           std::optional<boost::json::object> ctx = std::nullopt);
  bool ok() const { return errors_.empty(); }
  boost::json::value detail() const { return errors_; }

 private:
  const query_list& q_;
  boost::json::array errors_;
};

// The JSON body of the refresh/invalidate routes, validated like FastAPI validates its pydantic
// model (422 details added to v). An empty body is "missing" when required, else all defaults.
struct body_fields {
  std::optional<std::string> project_id;
  bool force = false;
};
body_fields parse_body(std::string_view body, validator& v, bool required, bool read_force = true);

// pydantic's lax bool from text: true/false, 1/0, yes/no, on/off, t/f, y/n (any case).
std::optional<bool> parse_bool_text(std::string_view s);

}  // namespace projcache::net
