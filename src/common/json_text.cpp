#include "common/json_text.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstring>

namespace projcache {

namespace {
constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the valid UTF-8 sequence at p, or 0; then `bad` is the length of its maximal
// invalid subpart (what one U+FFFD replaces, as the Unicode standard recommends).
std::size_t utf8_sequence(const unsigned char* p, std::size_t n, std::size_t& bad) {
  unsigned char c = p[0];
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    bad = 1;
    return 0;
  }
  for (std::size_t i = 1; i < len; ++i) {
    unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
    if (i >= n || p[i] < min || p[i] > max) {
      bad = i;
      return 0;
    }
  }
  return len;
}

void append_escaped(std::string& out, char ch) {
  static constexpr char hex[] = "0123456789abcdef";
  switch (ch) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: break;
  }
  auto u = static_cast<unsigned char>(ch);
  out += "\\u00";
  out += hex[u >> 4];
  out += hex[u & 15];
}

template <class Emit>
void for_each_valid_run(std::string_view s, Emit&& emit) {
  auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = s.size(), i = 0, run = 0;
  while (i < n) {
    if (p[i] < 0x80) {  // the common case: ASCII, no decoding
      ++i;
      continue;
    }
    std::size_t bad = 0, len = utf8_sequence(p + i, n - i, bad);
    if (len) {
      i += len;
      continue;
    }
    emit(s.substr(run, i - run), true);
    i += bad;
    run = i;
  }
  emit(s.substr(run), false);
}
}  // namespace

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for_each_valid_run(s, [&](std::string_view run, bool then_invalid) {
    out.append(run);
    if (then_invalid) out.append(replacement);
  });
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for_each_valid_run(s, [&](std::string_view run, bool then_invalid) {
    std::size_t from = 0;
    for (std::size_t i = 0; i < run.size(); ++i) {
      char ch = run[i];
      if (ch != '"' && ch != '\\' && static_cast<unsigned char>(ch) >= 0x20) continue;
      out.append(run.substr(from, i - from));
      append_escaped(out, ch);
      from = i + 1;
    }
    out.append(run.substr(from));
    if (then_invalid) out.append(replacement);
  });
  out += '"';
}

void append_json_number(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[64];
  double mag = std::fabs(d);
  // Python's repr: positional between 1e-4 and 1e16, else an exponent (two digits at least).
  bool positional = mag == 0 || (mag >= 1e-4 && mag < 1e16);
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, positional ? std::chars_format::fixed
                                                                         : std::chars_format::scientific);
  std::string_view text(buf, static_cast<std::size_t>(end - buf));
  if (positional) {
    out.append(text);
    if (text.find('.') == std::string_view::npos) out += ".0";
    return;
  }
  // to_chars writes "1e-05" and "1.5e+16", as Python does.
  out.append(text);
}

void append_json_text(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; return;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case boost::json::kind::int64: {
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.get_int64());
      out.append(buf, end);
      return;
    }
    case boost::json::kind::uint64: {
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.get_uint64());
      out.append(buf, end);
      return;
    }
    case boost::json::kind::double_: append_json_number(out, v.get_double()); return;
    case boost::json::kind::string: append_json_string(out, v.get_string()); return;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (auto& item : v.get_array()) {
        if (!first) out += ',';
        first = false;
        append_json_text(out, item);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (auto& [key, item] : v.get_object()) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, key);
        out += ':';
        append_json_text(out, item);
      }
      out += '}';
      return;
    }
  }
}

std::string to_json_text(const boost::json::value& v) {
  std::string out;
  out.reserve(256);
  append_json_text(out, v);
  return out;
}

}  // namespace projcache
