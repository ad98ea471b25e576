#pragma once
// Leaf helper shared by every layer: UTC microsecond clock and its two text forms.
#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace projcache {

using micros = std::int64_t;  // microseconds since the Unix epoch, UTC

inline micros now_micros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

// sep 'T' + 'Z' suffix for the API ("2026-11-24T10:00:00.000000Z"); sep ' ' without suffix
// for the database (SQLAlchemy's naive UTC form, so SkillMeat's Python can read our file).
inline std::string format_micros(micros t, char sep = 'T', bool zulu = true) {
  std::time_t secs = static_cast<std::time_t>(t >= 0 ? t / 1000000 : (t - 999999) / 1000000);
  long frac = static_cast<long>(t - static_cast<micros>(secs) * 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any value the compiler can imagine
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d%c%02d:%02d:%02d.%06ld%s", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, sep, tm.tm_hour, tm.tm_min, tm.tm_sec, frac,
                zulu ? "Z" : "");
  return buf;
}

inline std::string format_api_time(micros t) { return format_micros(t, 'T', true); }
inline std::string format_db_time(micros t) { return format_micros(t, ' ', false); }

// Parses both forms above, with or without fraction or zone suffix; naive means UTC.
inline std::optional<micros> parse_time(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (s.size() < 10) return std::nullopt;
  if (std::sscanf(std::string(s.substr(0, 10)).c_str(), "%4d-%2d-%2d", &y, &mo, &d) != 3)
    return std::nullopt;
  micros frac = 0;
  if (s.size() >= 19) {
    if (std::sscanf(std::string(s.substr(11, 8)).c_str(), "%2d:%2d:%2d", &h, &mi, &sec) != 3)
      return std::nullopt;
    std::size_t i = 19;
    if (i < s.size() && s[i] == '.') {
      ++i;
      int digits = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (digits < 6) { frac = frac * 10 + (s[i] - '0'); ++digits; }
        ++i;
      }
      while (digits++ < 6) frac *= 10;
    }
  }
  std::tm tm{};
  tm.tm_year = y - 1900; tm.tm_mon = mo - 1; tm.tm_mday = d;
  tm.tm_hour = h; tm.tm_min = mi; tm.tm_sec = sec;
  return static_cast<micros>(timegm(&tm)) * 1000000 + frac;
}

}  // namespace projcache
