// Settings from $SKILLMEAT_HOME/config.toml reach the running server: explicit projects, JSON
// logs, extra Host names and CORS origins, the keep-alive timeout, the WebSocket byte limit and
// background refresh off.
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include "server_fixture.hpp"

using namespace projcache::test;
namespace json = boost::json;

namespace {
// A server whose config.toml holds `cache_section` under [cache].
struct configured_server {
  temp_dir dir;
  reference_world w;
  std::unique_ptr<server_process> proc;
  explicit configured_server(const std::string& cache_section) {
    w = build_reference_world(dir.path());
    age_tree(w.home);
    age_tree(w.dev);
    write_file(w.home / "config.toml", "[cache]\n" + cache_section);
    proc = std::make_unique<server_process>(
        std::vector<std::string>{},
        env_map{{"SKILLMEAT_HOME", w.home.string()}, {"SKILLMEAT_CACHE_SEARCH_ROOTS", w.dev.string()}});
    BOOST_REQUIRE(eventually([&] { return http_get(port(), "/readyz").status == 200; }));
  }
  std::uint16_t port() const { return proc->port(); }
};

// Reads until EOF or error; the error (eof when the server closed), within a generous deadline.
boost::system::error_code read_to_end(boost::asio::ip::tcp::socket& sock) {
  timeval generous{30, 0};
  ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &generous, sizeof generous);
  char buf[4096];
  boost::system::error_code ec;
  while (!ec) sock.read_some(boost::asio::buffer(buf), ec);
  return ec;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(config_file)

BOOST_AUTO_TEST_CASE(explicit_projects_outside_the_search_roots) {
  temp_dir outside;
  write_file(outside / "solo/.claude/.skillmeat-deployed.toml", "");
  auto solo = fs::canonical(outside / "solo");
  configured_server srv("projects = [\"" + solo.string() + "\"]\n");
  auto r = http_get(srv.port(), "/api/v1/cache/projects/" + url_encode(b64_id(solo)));
  BOOST_TEST(r.status == 200);
  BOOST_TEST(http_get(srv.port(), "/api/v1/cache/projects").json().at("total").as_int64() == 5);  // 4 found + 1 named
}

BOOST_AUTO_TEST_CASE(json_logs_are_one_object_per_line) {
  configured_server srv("log_format = \"json\"\n");
  BOOST_REQUIRE(http_get(srv.port(), "/healthz").status == 200);
  auto err = srv.proc->stderr_text();
  std::istringstream lines(err);
  std::string line;
  int objects = 0;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    BOOST_TEST_CONTEXT(line) {
      BOOST_REQUIRE(!ec);
      BOOST_TEST(v.as_object().contains("msg"));
      BOOST_TEST(v.as_object().contains("level"));
    }
    ++objects;
  }
  BOOST_TEST(objects > 0);  // the start lines at least
}

BOOST_AUTO_TEST_CASE(allowed_hosts_and_cors_origins) {
  configured_server srv("allowed_hosts = [\"cache.internal\"]\ncors_origins = [\"http://app.example\"]\n");
  BOOST_TEST(http_get(srv.port(), "/api/v1/cache/status", {{"Host", "cache.internal:1"}}).status == 200);
  BOOST_TEST(http_get(srv.port(), "/api/v1/cache/status", {{"Host", "evil.example"}}).status == 400);
  auto allowed = http_get(srv.port(), "/api/v1/cache/status", {{"Origin", "http://app.example"}});
  BOOST_TEST(allowed.header("access-control-allow-origin") == "http://app.example");
  // The list replaces the defaults: localhost:3000 is no longer a CORS origin.
  auto other = http_get(srv.port(), "/api/v1/cache/status", {{"Origin", "http://localhost:3000"}});
  BOOST_TEST(other.header("access-control-allow-origin").empty());
}

BOOST_AUTO_TEST_CASE(idle_timeout_closes_a_quiet_keep_alive_connection) {
  configured_server srv("idle_timeout_ms = 300\n");
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket sock(ioc);
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), srv.port()});
  boost::asio::write(sock, boost::asio::buffer(std::string_view("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")));
  // The answer, then (keep-alive, nothing more sent) the server closes: EOF.
  BOOST_TEST(read_to_end(sock) == boost::asio::error::eof);
}

BOOST_AUTO_TEST_CASE(ws_queue_bytes_bounds_a_slow_subscriber) {
  configured_server srv("ws_queue_bytes = 4096\n");
  ws_client slow(srv.port());
  slow.set_receive_buffer(4096);
  slow.send(R"({"op":"subscribe"})");
  bool dropped = false;
  for (int i = 0; i < 400 && !dropped; ++i) {
    http_post(srv.port(), "/api/v1/cache/refresh", "{\"project_id\": \"" + srv.w.app_id + "\", \"force\": true}");
    dropped = http_get(srv.port(), "/api/v1/cache/status").json().at("dropped_clients").as_int64() == 1;
  }
  BOOST_TEST(dropped);  // by bytes: the message limit (4,096) is far away
  BOOST_TEST(drain_to_close_code(slow, std::chrono::milliseconds(20000)) == 1008);
}

BOOST_AUTO_TEST_CASE(background_refresh_off) {
  configured_server srv("enable_background_refresh = false\n");
  auto job = http_get(srv.port(), "/api/v1/cache/status").json().at("refresh_job_status").as_object();
  BOOST_TEST(!job.at("is_running").as_bool());
  BOOST_TEST(job.at("next_run_time").is_null());
}

BOOST_AUTO_TEST_SUITE_END()
