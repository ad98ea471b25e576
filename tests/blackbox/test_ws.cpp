#include <boost/test/unit_test.hpp>
#include <signal.h>

#include <future>

#include "server_fixture.hpp"

using namespace projcache::test;
namespace json = boost::json;

namespace {
std::string type_of(const json::value& v) { return std::string(v.at("type").as_string()); }

// Reads until an event of `type` (for `project`, when given) arrives; returns every message read.
std::vector<json::value> read_until(ws_client& c, const std::string& type, const std::string& project = "") {
  std::vector<json::value> seen;
  for (;;) {
    auto m = c.read_json(std::chrono::milliseconds(15000));
    seen.push_back(m);
    if (m.as_object().contains("type") && type_of(m) == type &&
        (project.empty() || (m.at("project_id").is_string() && m.at("project_id").as_string() == project)))
      return seen;
  }
}

json::object subscribe(ws_client& c, const std::string& body = R"({"op":"subscribe"})") {
  c.send(body);
  auto m = c.read_json().as_object();
  BOOST_REQUIRE(m.at("op").as_string() == "subscribed");
  return m;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(websocket_events)

BOOST_AUTO_TEST_CASE(events_of_a_file_change_in_seq_order) {
  live_server srv;
  auto status_before = srv.get_json("/api/v1/cache/status");
  BOOST_TEST(status_before.at("subscribers").as_int64() == 0);
  ws_client c(srv.port());
  auto sub = subscribe(c);
  // The status body is reused while nothing changed: a new subscriber is a change.
  BOOST_TEST(srv.get_json("/api/v1/cache/status").at("subscribers").as_int64() == 1);
  BOOST_TEST(sub.at("seq").as_int64() > 0);
  BOOST_TEST(sub.at("epoch").as_string().size() == 16u);
  write_file(srv.w.dev / "app/.claude/agents/pm.md", "changed for the websocket test\n");
  auto seen = read_until(c, "refresh_completed", srv.w.app_id);
  BOOST_REQUIRE(seen.size() >= 3u);
  auto& changes = seen[seen.size() - 2].as_object();  // started, changes_detected, completed
  BOOST_TEST(changes.at("type").as_string() == "changes_detected");
  BOOST_TEST(changes.at("changes_detected").as_bool());
  BOOST_TEST(changes.at("details").at("changed").as_array().at(0).as_string() == srv.w.app_id + ":.claude:agent:pm");
  std::int64_t prev = sub.at("seq").as_int64();
  for (auto& m : seen) {
    BOOST_TEST(m.at("seq").as_int64() > prev);
    prev = m.at("seq").as_int64();
  }
  c.send(R"({"op":"ping"})");
  BOOST_TEST(c.read_json().at("op").as_string() == "pong");
  c.send(R"({"op":"unsubscribe"})");
  BOOST_TEST(c.read_json().at("op").as_string() == "unsubscribed");
}

BOOST_AUTO_TEST_CASE(filters_by_type_and_project) {
  live_server srv;
  ws_client c(srv.port());
  subscribe(c, R"({"op":"subscribe","types":["refresh_completed"],"project_ids":[")" + srv.w.web_id + R"("]})");
  srv.post("/api/v1/cache/refresh", "{\"project_id\": \"" + srv.w.app_id + "\", \"force\": true}");
  srv.post("/api/v1/cache/refresh", "{\"project_id\": \"" + srv.w.web_id + "\", \"force\": true}");
  auto m = c.read_json();  // the app's events and the web's refresh_started were filtered out
  BOOST_TEST(type_of(m) == "refresh_completed");
  BOOST_TEST(m.at("project_id").as_string() == srv.w.web_id);
}

BOOST_AUTO_TEST_CASE(replay_after_reconnect_and_resync) {
  live_server srv;
  std::int64_t last_seen;
  std::string epoch;
  {
    ws_client c(srv.port());
    auto sub = subscribe(c);
    last_seen = sub.at("seq").as_int64();
    epoch = std::string(sub.at("epoch").as_string());
  }
  // Missed while disconnected:
  srv.post("/api/v1/cache/refresh", "{\"project_id\": \"" + srv.w.app_id + "\", \"force\": true}");
  ws_client again(srv.port());
  auto sub = subscribe(again, R"({"op":"subscribe","since":)" + std::to_string(last_seen) + R"(,"epoch":")" + epoch + "\"}");
  std::int64_t now = sub.at("seq").as_int64();
  BOOST_TEST(now >= last_seen + 2);
  for (std::int64_t want = last_seen + 1; want <= now; ++want) BOOST_TEST(again.read_json().at("seq").as_int64() == want);

  ws_client other_run(srv.port());
  subscribe(other_run, R"({"op":"subscribe","since":1,"epoch":"not-this-run"})");
  auto r = other_run.read_json().as_object();
  BOOST_TEST(r.at("type").as_string() == "resync_required");
  BOOST_TEST(r.at("seq").is_null());
  ws_client future(srv.port());
  subscribe(future, R"({"op":"subscribe","since":999999})");
  auto ahead = future.read_json();
  BOOST_TEST(type_of(ahead) == "resync_required");
  BOOST_TEST(ahead.at("details").at("reason").as_string() ==
             "since is ahead of the newest event: it is not from this server run");
  BOOST_TEST(r.at("details").at("reason").as_string() == "epoch is not this server run");
}

BOOST_AUTO_TEST_CASE(auth_and_origin) {
  live_server srv(env_map{{"SKILLMEAT_API_KEY_ENABLED", "true"}, {"SKILLMEAT_API_KEY", "k3y"}});
  BOOST_TEST(ws_refusal_status(srv.port(), {}) == 401);
  BOOST_TEST(ws_refusal_status(srv.port(), {{"X-API-Key", "bad"}}) == 403);
  BOOST_TEST(ws_refusal_status(srv.port(), {{"X-API-Key", "k3y"}, {"Origin", "http://evil.example"}}) == 403);
  BOOST_TEST(ws_refusal_status(srv.port(), {{"X-API-Key", "k3y"}, {"Origin", "http://localhost:3000"}}) == 0);
  ws_client browser(srv.port(), {{"Origin", "http://localhost:5173"}}, "apikey.k3y");
  BOOST_TEST(browser.selected_subprotocol() == "apikey.k3y");
  subscribe(browser);
}

BOOST_AUTO_TEST_CASE(malformed_binary_and_oversized_frames) {
  live_server srv;
  ws_client c(srv.port());
  c.send("{not json");
  BOOST_TEST(c.read_json().at("op").as_string() == "error");
  c.send(R"({"op":"dance"})");
  BOOST_TEST(c.read_json().at("op").as_string() == "error");
  c.send(R"({"op":"subscribe","types":["nonsense"]})");
  BOOST_TEST(c.read_json().at("op").as_string() == "error");
  subscribe(c);  // still open and working
  c.send_binary("\x01\x02");
  BOOST_TEST(c.read_until_close() == 1003);

  ws_client big(srv.port());
  big.send(std::string(70 * 1024, ' '));
  BOOST_TEST(big.read_until_close() == 1009);
}

namespace {
// A masked client frame (RFC 6455 5.2), payload under 126 bytes.
std::string client_frame(std::uint8_t first_byte, const std::string& payload) {
  std::string f{static_cast<char>(first_byte), static_cast<char>(0x80 | payload.size())};
  const char mask[4] = {0x11, 0x22, 0x33, 0x44};
  f.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return f;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_session_closed_by_two_errors_at_once_still_ends) {
  // A binary frame (we close with 1003), a ping and a continuation without a start (Beast fails
  // the connection with 1002), all in one segment: the two closes once deadlocked inside Beast
  // and the session outlived its socket (22 of 40 here).
  live_server srv;
  const auto segment = client_frame(0x82, "\x01\x02") + client_frame(0x89, "hi") + client_frame(0x80, "cont");
  for (int i = 0; i < 40; ++i) {
    ws_client c(srv.port());
    c.write_raw(segment);
    auto code = c.read_until_close(std::chrono::milliseconds(10000));
    BOOST_CHECK_MESSAGE(code == 1003 || code == 1002, "close code " << code);  // whichever close went first
  }
  BOOST_TEST(eventually([&] { return srv.get_json("/api/v1/cache/status").at("subscribers").as_int64() == 0; },
                        std::chrono::seconds(20)));
}

BOOST_AUTO_TEST_CASE(a_client_that_does_not_read_is_dropped_alone) {
  live_server srv(env_map{{"SKILLMEAT_CACHE_WS_QUEUE_MESSAGES", "50"}});
  // The sluggard: a tiny receive window, and it never reads after subscribing.
  ws_client slow(srv.port());
  slow.set_receive_buffer(4096);
  slow.send(R"({"op":"subscribe"})");
  ws_client good(srv.port());
  auto sub = subscribe(good);
  std::int64_t expect = sub.at("seq").as_int64();
  bool dropped = false;
  for (int i = 0; i < 400 && !dropped; ++i) {
    srv.post("/api/v1/cache/refresh", "{\"project_id\": \"" + srv.w.app_id + "\", \"force\": true}");
    // (A generous read deadline: this loop runs hundreds of refreshes, on a loaded CI machine too.)
    for (int k = 0; k < 2; ++k) BOOST_TEST_REQUIRE(good.read_json(std::chrono::milliseconds(20000)).at("seq").as_int64() == ++expect);
    dropped = srv.get_json("/api/v1/cache/status").at("dropped_clients").as_int64() == 1;
  }
  BOOST_TEST(dropped);
  // It reads again: what was in flight, then the 1008 close frame with its reason.
  BOOST_TEST(drain_to_close_code(slow, std::chrono::milliseconds(20000)) == 1008);
  srv.post("/api/v1/cache/refresh", "{\"project_id\": \"" + srv.w.app_id + "\", \"force\": true}");
  BOOST_TEST(good.read_json().at("seq").as_int64() == ++expect);  // the reader missed nothing
}

BOOST_AUTO_TEST_CASE(server_stop_sends_going_away) {
  live_server srv;
  ws_client c(srv.port());
  subscribe(c);
  auto stopped = std::async(std::launch::async, [&] { return srv.proc->stop(SIGTERM); });
  BOOST_TEST(c.read_until_close(std::chrono::milliseconds(6000)) == 1001);
  BOOST_TEST(stopped.get() == 0);  // checked here, on the test's own thread
}

BOOST_AUTO_TEST_CASE(a_replay_larger_than_the_send_queue_streams_as_the_client_reads) {
  // 6,000 kept events against a 4,096-message queue: the replay is sent as the client reads,
  // never all at once, so a reading client gets all of it and then live events, each once.
  temp_dir d;
  auto w = build_reference_world(d.path());
  server_process proc({"--bench-routes"}, {{"SKILLMEAT_HOME", w.home.string()}, {"SKILLMEAT_CACHE_SEARCH_ROOTS", w.dev.string()}});
  BOOST_REQUIRE(eventually([&] { return http_get(proc.port(), "/readyz").status == 200; }));
  BOOST_REQUIRE(http_post(proc.port(), "/api/v1/bench/publish?n=6000&size=300", "").status == 200);
  ws_client c(proc.port());
  auto sub = subscribe(c, R"({"op":"subscribe","since":0})");
  std::int64_t current = sub.at("seq").as_int64();
  BOOST_REQUIRE(current >= 6000);
  for (std::int64_t want = 1; want <= current; ++want) {
    auto ev = c.read_json();
    BOOST_REQUIRE_MESSAGE(ev.is_object() && ev.as_object().contains("seq"), "replay ended early at " << want);
    BOOST_REQUIRE(ev.at("seq").as_int64() == want);
  }
  BOOST_REQUIRE(http_post(proc.port(), "/api/v1/bench/publish?n=3&size=300", "").status == 200);
  for (std::int64_t want = current + 1; want <= current + 3; ++want) BOOST_TEST(c.read_json().at("seq").as_int64() == want);
  BOOST_TEST(http_get(proc.port(), "/api/v1/cache/status").json().at("dropped_clients").as_int64() == 0);
}

BOOST_AUTO_TEST_CASE(websockets_count_against_max_connections) {
  live_server srv(env_map{{"SKILLMEAT_CACHE_MAX_CONNECTIONS", "4"}});
  std::vector<std::unique_ptr<ws_client>> subscribers;
  for (int i = 0; i < 4; ++i) {
    subscribers.push_back(std::make_unique<ws_client>(srv.port()));
    subscribe(*subscribers.back());
  }
  // Four WebSockets are four connections: the fifth client, of either kind, is refused.
  auto busy = srv.get("/api/v1/cache/status");
  BOOST_TEST(busy.status == 503);
  BOOST_TEST(busy.json().at("detail").as_string() == "Too many open connections");
  BOOST_TEST(ws_refusal_status(srv.port(), {}) == 503);
  subscribers.pop_back();  // one leaves: room again
  BOOST_TEST(eventually([&] { return srv.get("/api/v1/cache/status").status == 200; }));
}

BOOST_AUTO_TEST_SUITE_END()
