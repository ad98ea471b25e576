// What goes over the wire: numbers as people write them, JSON that is always valid UTF-8, and
// state-changing requests only from our own pages with JSON bodies.
#include <boost/test/unit_test.hpp>

#include "server_fixture.hpp"

using namespace projcache::test;
namespace json = boost::json;

namespace {
bool has_exponent_number(const std::string& body) {
  // A digit, then E or e, then a digit or sign: 8E1, 2.16E4, 1.5E-3 (not inside words such as "Error").
  for (std::size_t i = 1; i + 1 < body.size(); ++i)
    if ((body[i] == 'E' || body[i] == 'e') && std::isdigit(static_cast<unsigned char>(body[i - 1])) &&
        (std::isdigit(static_cast<unsigned char>(body[i + 1])) || body[i + 1] == '-' || body[i + 1] == '+'))
      return true;
  return false;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(wire)

BOOST_AUTO_TEST_CASE(numbers_have_no_exponent) {
  live_server srv;
  auto search = srv.get("/api/v1/cache/search?query=review").body;
  BOOST_TEST(search.find("\"score\":100.0") != std::string::npos);
  auto prefix = srv.get("/api/v1/cache/search?query=rev").body;
  BOOST_TEST(prefix.find("\"score\":80.0") != std::string::npos);
  auto stats = srv.get("/api/v1/projects/cache/stats").body;
  BOOST_TEST(stats.find("\"cache_ttl\":21600.0") != std::string::npos);
  srv.get("/api/v1/cache/projects/" + srv.w.app_id);  // a read, so hit_rate is a ratio
  auto status = srv.get("/api/v1/cache/status").body;
  BOOST_TEST(status.find("\"hit_rate\":") != std::string::npos);
  auto refresh = srv.post("/api/v1/cache/refresh", R"({"force":true})").body;
  BOOST_TEST(refresh.find("\"duration_seconds\":") != std::string::npos);
  for (auto* body : {&search, &prefix, &stats, &status, &refresh})
    BOOST_TEST_CONTEXT(*body) { BOOST_TEST(!has_exponent_number(*body)); }
}

BOOST_AUTO_TEST_CASE(invalid_utf8_in_names_and_queries_becomes_u_fffd) {
  temp_dir d;
  auto w = build_reference_world(d.path());
  // A project folder whose name is not UTF-8; its id is still the base64 of the raw bytes.
  fs::path odd = w.dev / "odd\xff\xfe";
  fs::create_directories(odd);
  fs::copy(w.dev / "app" / ".claude", odd / ".claude", fs::copy_options::recursive);
  age_tree(w.home);
  age_tree(w.dev);
  server_process proc({}, {{"SKILLMEAT_HOME", w.home.string()}, {"SKILLMEAT_CACHE_SEARCH_ROOTS", w.dev.string()}});
  BOOST_REQUIRE(eventually([&] { return http_get(proc.port(), "/readyz").status == 200; }));
  auto id = b64_id(fs::canonical(odd));

  // Boost.JSON's parser refuses invalid UTF-8, so each parse below is the check.
  auto list = http_get(proc.port(), "/api/v1/cache/projects").json().as_object();
  bool found = false;
  for (auto& p : list["items"].as_array())
    if (p.at("id").as_string() == id) {
      found = true;
      BOOST_TEST(std::string(p.at("name").as_string()) == "odd\xEF\xBF\xBD\xEF\xBF\xBD");
    }
  BOOST_TEST(found);
  auto detail = http_get(proc.port(), "/api/v1/cache/projects/" + url_encode(id));
  BOOST_REQUIRE(detail.status == 200);
  BOOST_TEST(detail.json().at("id").as_string() == id);
  // Query echoes and 404 details too.
  auto echo = http_get(proc.port(), "/api/v1/cache/search?query=%FF%FEx");
  BOOST_REQUIRE(echo.status == 200);
  BOOST_TEST(std::string(echo.json().at("query").as_string()) == "\xEF\xBF\xBD\xEF\xBF\xBDx");
  auto missing = http_get(proc.port(), "/api/v1/cache/projects/%FF");
  BOOST_TEST(missing.status == 404);
  BOOST_TEST(std::string(missing.json().at("detail").as_string()) == "Project '\xEF\xBF\xBD' not found");
}

BOOST_AUTO_TEST_CASE(writes_only_from_our_pages_and_with_json) {
  live_server srv;
  auto stale = [&] { return srv.get_json("/api/v1/cache/status")["stale_projects"].as_int64(); };
  auto before = stale();
  const std::string body = R"({"project_id":null})";
  // A page on another site: refused, and nothing was invalidated.
  auto evil = srv.post("/api/v1/cache/invalidate", body, {{"Origin", "https://evil.example"}});
  BOOST_TEST(evil.status == 403);
  BOOST_TEST(std::string(evil.json().at("detail").as_string()) == "Origin not allowed");
  // The no-preflight form: text/plain.
  auto plain = srv.post("/api/v1/cache/invalidate", body, {{"Content-Type", "text/plain"}});
  BOOST_TEST(plain.status == 415);
  BOOST_TEST(srv.post("/api/v1/cache/invalidate", body, {{"Content-Type", "application/x-www-form-urlencoded"}}).status == 415);
  BOOST_TEST(http_request(srv.port(), "DELETE", "/api/v1/cache/projects/" + srv.w.app_id, "", {{"Origin", "http://evil.example"}})
                 .status == 403);
  BOOST_TEST(stale() == before);
  // Our own pages, the configured CORS origins, loopback, and clients that send no Origin pass.
  for (auto* origin : {"http://localhost:5173", "http://127.0.0.1:9999", "http://[::1]:1"}) {
    BOOST_TEST_CONTEXT(origin) {
      BOOST_TEST(srv.post("/api/v1/cache/invalidate", body, {{"Origin", origin}}).status == 200);
    }
  }
  auto own = "http://127.0.0.1:" + std::to_string(srv.port());
  BOOST_TEST(srv.post("/api/v1/cache/invalidate", body, {{"Origin", own}, {"Content-Type", "application/json; charset=utf-8"}})
                 .status == 200);
  // An empty body needs no content type.
  BOOST_TEST(http_request(srv.port(), "POST", "/api/v1/projects/cache/refresh", "", {{"Content-Type", "text/plain"}}).status == 200);
}

BOOST_AUTO_TEST_CASE(http_framing_by_the_rfcs) {
  live_server srv;
  auto host = "Host: 127.0.0.1:" + std::to_string(srv.port()) + "\r\n";
  const std::string body = R"({"project_id":null})";
  auto req = [&](const std::string& extra, const std::string& b) {
    return "POST /api/v1/cache/invalidate HTTP/1.1\r\n" + host + extra + "Content-Type: application/json\r\nConnection: close\r\n" +
           "Content-Length: " + std::to_string(b.size()) + "\r\n\r\n" + b;
  };
  // Expect: 100-continue gets its 100 before the answer (curl waits a second for it).
  auto cont = raw_exchange(srv.port(), req("Expect: 100-continue\r\n", body), std::chrono::milliseconds(10000));
  BOOST_TEST(cont.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK"), cont);
  BOOST_TEST(raw_exchange(srv.port(), req("Expect: something-else\r\n", body), std::chrono::milliseconds(10000))
                 .starts_with("HTTP/1.1 417"));
  // Two Host headers: which one would we trust?
  BOOST_TEST(raw_exchange(srv.port(), req(host, body), std::chrono::milliseconds(10000)).starts_with("HTTP/1.1 400"));
  // Transfer codings: chunked must come last; others are not read.
  auto te = [&](const std::string& codings) {
    return raw_exchange(srv.port(),
                        "POST /api/v1/cache/invalidate HTTP/1.1\r\n" + host + "Content-Type: application/json\r\n" +
                            "Transfer-Encoding: " + codings + "\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                        std::chrono::milliseconds(10000));
  };
  BOOST_TEST(te("chunked, identity").starts_with("HTTP/1.1 400"));
  BOOST_TEST(te("gzip, chunked").starts_with("HTTP/1.1 501"));
  BOOST_TEST(te("chunked").starts_with("HTTP/1.1 200"));
  // A WebSocket key that is not the base64 of 16 bytes.
  auto upgrade = [&](const std::string& key) {
    return raw_exchange(srv.port(),
                        "GET /api/v1/cache/events HTTP/1.1\r\n" + host +
                            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                            "Sec-WebSocket-Key: " + key + "\r\n\r\n",
                        std::chrono::milliseconds(3000));
  };
  BOOST_TEST(upgrade("abc").starts_with("HTTP/1.1 400"));
  BOOST_TEST(upgrade("").starts_with("HTTP/1.1 400"));
  BOOST_TEST(upgrade("dGhlIHNhbXBsZSBub25jZQ==").starts_with("HTTP/1.1 101"));
}

BOOST_AUTO_TEST_CASE(a_subscribe_filter_is_bounded) {
  live_server srv;
  ws_client c(srv.port());
  json::array ids;
  for (int i = 0; i < 1001; ++i) ids.emplace_back("id" + std::to_string(i));
  c.send(json::serialize(json::object{{"op", "subscribe"}, {"project_ids", ids}}));
  auto err = c.read_json().as_object();
  BOOST_TEST(err["op"].as_string() == "error");
  BOOST_TEST(std::string(err["detail"].as_string()).find("at most 1000") != std::string::npos);
  ids.pop_back();
  c.send(json::serialize(json::object{{"op", "subscribe"}, {"project_ids", ids}}));
  BOOST_TEST(c.read_json().at("op").as_string() == "subscribed");
}

BOOST_AUTO_TEST_CASE(a_symlink_loop_where_an_artifact_should_be_is_missing) {
  live_server srv;
  auto pm = srv.w.dev / "app/.claude/agents/pm.md";
  fs::remove(pm);
  fs::create_symlink(pm, pm);  // pm.md -> pm.md
  auto r = srv.post("/api/v1/cache/refresh", json::serialize(json::object{{"project_id", srv.w.app_id}, {"force", true}}));
  BOOST_REQUIRE(r.status == 200);
  BOOST_TEST(r.json().at("success").as_bool(), r.body);
  auto detail = srv.get_json("/api/v1/cache/projects/" + url_encode(srv.w.app_id));
  BOOST_TEST(detail["status"].as_string() == "active");
  std::string drift = "absent";
  for (auto& a : detail["artifacts"].as_array())
    if (a.at("name").as_string() == "pm") drift = std::string(a.at("drift").as_string());
  BOOST_TEST(drift == "missing");
}

BOOST_AUTO_TEST_CASE(unknown_query_parameters_do_not_grow_the_body_cache) {
  live_server srv;
  auto cached_bytes = [&] {
    auto text = srv.get("/metrics").body;
    auto at = text.find("\nprojcache_body_cache_bytes ");
    BOOST_REQUIRE(at != std::string::npos);
    return std::stoll(text.substr(at + 28));
  };
  auto first = srv.get("/api/v1/cache/projects?limit=100");
  BOOST_REQUIRE(first.status == 200);
  auto one = cached_bytes();
  BOOST_TEST(one >= static_cast<long long>(first.body.size()));
  for (int i = 0; i < 200; ++i) {
    auto r = srv.get("/api/v1/cache/projects?limit=100&nocache=" + std::to_string(i));
    BOOST_REQUIRE(r.status == 200);
    BOOST_REQUIRE(r.body == first.body);
  }
  BOOST_TEST(cached_bytes() == one);  // one entry: the same parameters, whatever else came along
}

BOOST_AUTO_TEST_SUITE_END()
