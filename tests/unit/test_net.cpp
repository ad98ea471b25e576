#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <sstream>

#include "net/body_cache.hpp"
#include "net/http_policy.hpp"
#include "net/responses.hpp"
#include "net/query.hpp"
#include "net/router.hpp"

using namespace projcache::net;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(route_table)

BOOST_AUTO_TEST_CASE(known_unknown_and_wrong_verb) {
  router r;
  router::handler h = [](request_context&) -> boost::asio::awaitable<response> { co_return response{}; };
  r.add(http::verb::get, "/api/v1/cache/status", h);
  r.add(http::verb::post, "/api/v1/cache/refresh", h);
  r.add(http::verb::get, "/api/v1/cache/projects/{id}", h);
  BOOST_TEST(r.find("/api/v1/cache/status", http::verb::get).h != nullptr);
  auto wrong = r.find("/api/v1/cache/refresh", http::verb::get);
  BOOST_TEST(wrong.path_known);
  BOOST_TEST(wrong.h == nullptr);
  BOOST_TEST(wrong.allow == "POST");
  BOOST_TEST(!r.find("/nope", http::verb::get).path_known);
  auto p = r.find("/api/v1/cache/projects/L2E=", http::verb::get);
  BOOST_TEST(p.param == "L2E=");
  // Standard base64 ids contain '/': a trailing {id} takes the rest of the path.
  auto slashed = r.find("/api/v1/cache/projects/a/b", http::verb::get);
  BOOST_TEST(slashed.path_known);
  BOOST_TEST(slashed.param == "a/b");
  BOOST_TEST(!r.find("/api/v1/cache/projects/", http::verb::get).path_known);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(query_validation)

BOOST_AUTO_TEST_CASE(targets_decode) {
  std::string path;
  bool ok = false;
  auto q = parse_target("/api/v1/cache/search?query=a%20b&type=skill&query=last", path, ok);
  BOOST_TEST(ok);
  BOOST_TEST(path == "/api/v1/cache/search");
  validator v(q);
  BOOST_TEST(v.text("query").value() == "last");  // the last one wins
  parse_target("no-slash", path, ok);
  BOOST_TEST(!ok);
}

BOOST_AUTO_TEST_CASE(fastapi_error_shapes) {
  query_list q{{"limit", "0"}, {"skip", "abc"}, {"is_outdated", "maybe"}, {"big", "999999999999999999999999"}};
  validator v(q);
  v.integer("limit", 100, 1, 500);
  v.integer("skip", 0, 0, std::nullopt);
  v.boolean("is_outdated");
  v.integer("big", 1, 1, 500);
  v.required_text("query", 1);
  BOOST_TEST(!v.ok());
  auto d = v.detail().as_array();
  BOOST_REQUIRE(d.size() == 5u);
  BOOST_TEST(d[0].at("type").as_string() == "greater_than_equal");
  BOOST_TEST(json::serialize(d[0].at("loc")) == R"(["query","limit"])");
  BOOST_TEST(d[0].at("msg").as_string() == "Input should be greater than or equal to 1");
  BOOST_TEST(d[0].at("input").as_string() == "0");
  BOOST_TEST(d[0].at("ctx").at("ge").as_int64() == 1);
  BOOST_TEST(d[1].at("type").as_string() == "int_parsing");
  BOOST_TEST(d[2].at("type").as_string() == "bool_parsing");
  BOOST_TEST(d[3].at("type").as_string() == "less_than_equal");
  BOOST_TEST(d[4].at("type").as_string() == "missing");
  BOOST_TEST(d[4].at("input").is_null());
}

BOOST_AUTO_TEST_CASE(booleans_and_defaults) {
  for (auto [text, want] : std::vector<std::pair<std::string, bool>>{{"true", true}, {"1", true}, {"YES", true}, {"on", true},
                                                                     {"false", false}, {"0", false}, {"no", false}, {"off", false}})
    BOOST_TEST(parse_bool_text(text).value() == want);
  query_list empty;
  validator v(empty);
  BOOST_TEST(v.integer("limit", 100, 1, 500) == 100);
  BOOST_TEST(!v.boolean("is_outdated"));
  BOOST_TEST(v.ok());
  query_list blank{{"query", ""}};
  validator v2(blank);
  v2.required_text("query", 1);
  BOOST_TEST(v2.detail().as_array()[0].at("type").as_string() == "string_too_short");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(policy)

BOOST_AUTO_TEST_CASE(hosts) {
  options o;
  for (auto h : {"localhost", "localhost:8765", "127.0.0.1:1", "[::1]:9", "[::1]", "LOCALHOST"}) BOOST_TEST(host_allowed(o, h));
  for (auto h : {"evil.com", "evil.com:8765", "127.0.0.1.evil.com", "", "localhost:abc", "[::1"}) BOOST_TEST(!host_allowed(o, h));
  o.allowed_hosts = {"devbox"};
  BOOST_TEST(host_allowed(o, "devbox:80"));
}

BOOST_AUTO_TEST_CASE(origins_and_keys) {
  options o;
  BOOST_TEST(origin_allowed(o, "http://localhost:3000"));
  BOOST_TEST(!origin_allowed(o, "http://evil.com"));
  BOOST_TEST(same_origin("http://127.0.0.1:8765", "127.0.0.1:8765"));
  BOOST_TEST(!same_origin("http://evil.com", "127.0.0.1:8765"));
  BOOST_TEST((check_api_key(o, std::nullopt) == auth_result::ok));
  o.api_key = "s3cret";
  BOOST_TEST((check_api_key(o, std::nullopt) == auth_result::missing));
  BOOST_TEST((check_api_key(o, std::string_view("nope")) == auth_result::invalid));
  BOOST_TEST((check_api_key(o, std::string_view("s3cret")) == auth_result::ok));
  std::string selected;
  BOOST_TEST((check_api_key(o, std::nullopt, std::string_view("chat, apikey.s3cret"), &selected) == auth_result::ok));
  BOOST_TEST(selected == "apikey.s3cret");
  BOOST_TEST((check_api_key(o, std::nullopt, std::string_view("apikey.wrong"), &selected) == auth_result::invalid));
  BOOST_TEST(constant_time_equal("abc", "abc"));
  BOOST_TEST(!constant_time_equal("abc", "abd"));
  BOOST_TEST(!constant_time_equal("abc", "abcd"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bodies)

BOOST_AUTO_TEST_CASE(a_memo_body_holds_for_exactly_its_inputs) {
  memo_body<std::string> m;
  BOOST_TEST(!m.find("a"));
  auto first = m.put("a", R"({"n":1})");
  auto hit = m.find("a");
  BOOST_REQUIRE(hit);
  BOOST_TEST(*hit->body == R"({"n":1})");
  BOOST_TEST(hit->etag == first.etag);
  BOOST_TEST(!m.find("b"));
  BOOST_TEST(!m.find(std::string("a\0", 2)));
  auto second = m.put("b", R"({"n":2})");
  BOOST_TEST(second.etag != first.etag);
  BOOST_TEST(!m.find("a"));
  BOOST_TEST(*m.find("b")->body == R"({"n":2})");
}

BOOST_AUTO_TEST_CASE(cached_bodies_are_per_target_and_generation) {
  body_cache c(2);
  c.put("/x", 1, "one");
  BOOST_TEST(*c.find("/x", 1)->body == "one");
  BOOST_TEST(!c.find("/x", 2));
  BOOST_TEST(!c.find("/y", 1));
  c.put("/y", 1, "why");
  c.put("/z", 1, "zed");  // over the bound: cleared whole, then kept
  BOOST_TEST(*c.find("/z", 1)->body == "zed");
  BOOST_TEST(c.find("/x", 1).has_value() + c.find("/y", 1).has_value() <= 1);
}

BOOST_AUTO_TEST_CASE(cached_bodies_are_bounded_by_bytes) {
  body_cache c(100, 1000);
  c.put("/a", 1, std::string(400, 'a'));
  c.put("/b", 1, std::string(400, 'b'));
  BOOST_TEST(c.bytes() == 800u);
  c.put("/a", 1, std::string(300, 'A'));  // replacing an entry counts its new size only
  BOOST_TEST(c.bytes() == 700u);
  c.put("/c", 2, std::string(400, 'c'));  // over: the older generation goes first
  BOOST_TEST(c.bytes() == 400u);
  BOOST_TEST(!c.find("/a", 1));
  BOOST_TEST(*c.find("/c", 2)->body == std::string(400, 'c'));
  auto huge = c.put("/h", 2, std::string(5000, 'h'));  // larger than the budget: served, not kept
  BOOST_TEST(huge.body->size() == 5000u);
  BOOST_TEST(!c.find("/h", 2));
  BOOST_TEST(c.bytes() == 400u);
  // However many distinct keys come, the bytes stay under the budget.
  for (int i = 0; i < 1000; ++i) c.put("/k" + std::to_string(i), 2, std::string(90, 'k'));
  BOOST_TEST(c.bytes() <= 1000u);
}

BOOST_AUTO_TEST_CASE(the_cache_key_is_the_parsed_parameters) {
  // Unknown parameters never reach it; a value cannot pretend to be another parameter.
  BOOST_TEST(canonical_key("/p", {{"status", std::nullopt}, {"skip", "0"}}) == "/p?status&skip=1:0");
  BOOST_TEST(canonical_key("/p", {{"status", ""}}) != canonical_key("/p", {{"status", std::nullopt}}));
  BOOST_TEST(canonical_key("/p", {{"q", "a&skip=1:5"}, {"skip", "0"}}) !=
             canonical_key("/p", {{"q", "a"}, {"skip", "5"}}));
}

BOOST_AUTO_TEST_CASE(a_shared_body_goes_out_as_an_owned_one_would) {
  request req{http::verb::get, "/x", 11};
  auto text = std::make_shared<const std::string>(std::string(40'000, 'p') + "end");
  auto shared = shared_response(req, http::status::ok, text, "application/json");
  auto owned = text_response(req, http::status::ok, *text, "application/json");
  std::ostringstream a, b;
  a << shared;
  b << owned;
  BOOST_TEST(a.str() == b.str());
  BOOST_TEST(shared[http::field::content_length] == std::to_string(text->size()));
  BOOST_TEST(shared.body().view().data() == text->data());  // the cached text itself, not a copy
  shared.body() = std::string("own");
  BOOST_TEST(shared.body().view() == "own");
  shared.body().clear();
  BOOST_TEST(shared.body().size() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
