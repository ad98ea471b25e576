// The two text forms of a time and their parser (common/time_format.hpp).
#include <boost/test/unit_test.hpp>
#include <ctime>

#include "common/time_format.hpp"

using namespace projcache;

BOOST_AUTO_TEST_SUITE(time_format)

BOOST_AUTO_TEST_CASE(both_forms_read_back_exactly) {
  // Leap days, the epoch, years before it, the end of a century, and now.
  for (micros t : {micros{0}, micros{951782400000000} /* 2000-02-29 */, micros{-1}, micros{-86400000001},
                   micros{4107542399999999} /* 2100-02-28T23:59:59.999999 */, now_micros()}) {
    BOOST_TEST(parse_time(format_api_time(t)).value() == t);
    BOOST_TEST(parse_time(format_db_time(t)).value() == t);
  }
}

BOOST_AUTO_TEST_CASE(agrees_with_timegm_every_day_for_two_centuries) {
  for (std::time_t day = -36524; day < 36524 * 2; day += 1) {
    std::time_t secs = day * 86400 + 45296;  // 12:34:56
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    auto parsed = parse_time(buf);
    BOOST_REQUIRE_MESSAGE(parsed.has_value(), buf);
    BOOST_REQUIRE_MESSAGE(*parsed == static_cast<micros>(timegm(&tm)) * 1000000, buf);
  }
}

BOOST_AUTO_TEST_CASE(fractions_and_zones) {
  BOOST_TEST(parse_time("2026-11-24T10:00:00Z").value() == parse_time("2026-11-24 10:00:00.000000").value());
  BOOST_TEST(parse_time("2026-11-24T10:00:00.5Z").value() - parse_time("2026-11-24T10:00:00Z").value() == 500000);
  BOOST_TEST(parse_time("2026-11-24T10:00:00.1234567Z").value() % 1000000 == 123456);  // past microseconds: cut
  BOOST_TEST(parse_time("2026-11-24").value() == parse_time("2026-11-24 00:00:00").value());
}

BOOST_AUTO_TEST_CASE(what_is_not_a_time_is_nothing) {
  for (const char* bad : {"", "2026", "2026-11", "20261124", "2026-13-01", "2026-00-10", "2026-11-32",
                          "2026-11-24T1x:00:00", "2026-11-24T10-00-00", "yesterday at noon"})
    BOOST_TEST(!parse_time(bad).has_value(), bad);
}

BOOST_AUTO_TEST_SUITE_END()
