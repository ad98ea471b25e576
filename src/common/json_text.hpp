#pragma once
// The JSON text of every answer, event and log line we write. Boost.JSON's own serializer writes
// doubles as `8E1` and `1.5040910000000002E-3`, and copies invalid UTF-8 from file names through
// unchanged; SkillMeat's clients expect what FastAPI (Python's json) writes. So:
//  - doubles in the shortest form that reads back exactly, as Python's repr does: fixed notation
//    with at least one decimal (`80.0`, `21600.0`, `0.001504091`), an exponent only outside
//    1e-4 <= |x| < 1e16 (`1e-05`, `1e+16`); NaN and infinities (not JSON) as null;
//  - every string valid UTF-8: each invalid sequence becomes U+FFFD, as Python's
//    errors="replace" does; other text is written as it is, with JSON's escapes.
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace projcache {

std::string to_json_text(const boost::json::value& v);
void append_json_text(std::string& out, const boost::json::value& v);
// One double as above.
void append_json_number(std::string& out, double d);
// A JSON string literal (quotes included) of s, made valid UTF-8.
void append_json_string(std::string& out, std::string_view s);
// s with each invalid UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view s);

}  // namespace projcache
