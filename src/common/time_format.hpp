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
namespace detail {
// The n digits at s[at...], or -1 when one is not a digit.
inline int fixed_digits(std::string_view s, std::size_t at, int n) {
  int v = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[at + static_cast<std::size_t>(k)];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's
// days_from_civil): what timegm computes, without its locale and time-zone locks. Loading a
// cache parses three times per row, 150,000 times at start.
inline std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}
}  // namespace detail

inline std::optional<micros> parse_time(std::string_view s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int y = detail::fixed_digits(s, 0, 4), mo = detail::fixed_digits(s, 5, 2), d = detail::fixed_digits(s, 8, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  int h = 0, mi = 0, sec = 0;
  micros frac = 0;
  if (s.size() >= 19) {
    if (s[13] != ':' || s[16] != ':') return std::nullopt;
    h = detail::fixed_digits(s, 11, 2), mi = detail::fixed_digits(s, 14, 2), sec = detail::fixed_digits(s, 17, 2);
    if (h < 0 || mi < 0 || sec < 0) return std::nullopt;
    std::size_t i = 19;
    if (i < s.size() && s[i] == '.') {
      ++i;
      int digits = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (digits < 6) {
          frac = frac * 10 + (s[i] - '0');
          ++digits;
        }
        ++i;
      }
      while (digits++ < 6) frac *= 10;
    }
  }
  micros secs = detail::days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
  return secs * 1000000 + frac;
}

}  // namespace projcache
