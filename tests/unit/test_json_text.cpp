// The JSON writer of every answer: numbers as Python writes them, strings always valid UTF-8.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <charconv>
#include <random>

#include "common/json_text.hpp"

using projcache::to_json_text;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(json_text)

BOOST_AUTO_TEST_CASE(doubles_as_python_repr_writes_them) {
  // What FastAPI (json.dumps, repr) writes for the values our routes carry.
  BOOST_TEST(to_json_text(json::value(80.0)) == "80.0");
  BOOST_TEST(to_json_text(json::value(21600.0)) == "21600.0");
  BOOST_TEST(to_json_text(json::value(0.001504091)) == "0.001504091");
  BOOST_TEST(to_json_text(json::value(1.5040910000000002e-3)) == "0.0015040910000000002");
  BOOST_TEST(to_json_text(json::value(0.5)) == "0.5");
  BOOST_TEST(to_json_text(json::value(-2.25)) == "-2.25");
  BOOST_TEST(to_json_text(json::value(0.0)) == "0.0");
  BOOST_TEST(to_json_text(json::value(-0.0)) == "-0.0");
  BOOST_TEST(to_json_text(json::value(0.0001)) == "0.0001");
  BOOST_TEST(to_json_text(json::value(1e15)) == "1000000000000000.0");
  // Outside 1e-4 <= |x| < 1e16 Python switches to an exponent, and so do we.
  BOOST_TEST(to_json_text(json::value(1e-5)) == "1e-05");
  BOOST_TEST(to_json_text(json::value(1.5e-7)) == "1.5e-07");
  BOOST_TEST(to_json_text(json::value(1e16)) == "1e+16");
  BOOST_TEST(to_json_text(json::value(std::nan(""))) == "null");
  BOOST_TEST(to_json_text(json::value(INFINITY)) == "null");
}

BOOST_AUTO_TEST_CASE(every_double_reads_back_exactly) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> exponent(-12, 18), mantissa(-10, 10);
  for (int i = 0; i < 20000; ++i) {
    double d = mantissa(rng) * std::pow(10.0, exponent(rng));
    auto text = to_json_text(json::value(d));
    BOOST_TEST_CONTEXT(text) {
      BOOST_TEST(text.find('E') == std::string::npos);
      // Exactly, by from_chars: Boost.JSON 1.81's own parser can be an ULP off.
      double back = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), back);
      BOOST_TEST((ec == std::errc() && end == text.data() + text.size()));
      BOOST_TEST(back == d);
    }
  }
}

BOOST_AUTO_TEST_CASE(integers_and_structure) {
  json::value v = json::object{{"a", 1}, {"b", json::array{-5, std::uint64_t(18446744073709551615ull), nullptr, true}},
                               {"c", json::object{}}};
  BOOST_TEST(to_json_text(v) == R"({"a":1,"b":[-5,18446744073709551615,null,true],"c":{}})");
  BOOST_TEST(json::parse(to_json_text(v)) == v);
}

BOOST_AUTO_TEST_CASE(strings_are_escaped_and_valid_utf8) {
  BOOST_TEST(to_json_text(json::value("a\"b\\c\n\t\x01/")) == R"("a\"b\\c\n\t\u0001/")");
  BOOST_TEST(to_json_text(json::value("日本 über")) == "\"日本 über\"");  // valid text is kept as it is
  // Each invalid sequence is one U+FFFD: lone bytes, a cut-off sequence, overlongs, surrogates.
  BOOST_TEST(to_json_text(json::value("\xff\xfe")) == "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  BOOST_TEST(to_json_text(json::value("ab\xe6\x97")) == "\"ab\xEF\xBF\xBD\"");
  BOOST_TEST(to_json_text(json::value("\xc0\x80")) == "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  BOOST_TEST(to_json_text(json::value("\xed\xa0\x80")) == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  BOOST_TEST(to_json_text(json::value("\xf4\x90\x80\x80")) == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  BOOST_TEST(to_json_text(json::value("x\xe6\x97\xa5y\x80z")) == "\"x日y\xEF\xBF\xBDz\"");
  // Keys too.
  BOOST_TEST(to_json_text(json::object{{"k\xff", 1}}) == "{\"k\xEF\xBF\xBD\":1}");
  BOOST_TEST(projcache::valid_utf8("ok\xff") == "ok\xEF\xBF\xBD");
}

BOOST_AUTO_TEST_SUITE_END()
