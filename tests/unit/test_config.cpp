#include <boost/test/unit_test.hpp>

#include "app/config.hpp"
#include "support/world.hpp"

using namespace projcache::app;
using projcache::test::temp_dir;
using projcache::test::write_file;

namespace {
std::map<std::string, std::string> fake_env;
std::optional<std::string> lookup(const char* name) {
  auto it = fake_env.find(name);
  if (it == fake_env.end()) return std::nullopt;
  return it->second;
}
struct env_fixture {
  temp_dir home;
  env_fixture() { fake_env = {{"SKILLMEAT_HOME", home.path().string()}}; }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(config_tests, env_fixture)

BOOST_AUTO_TEST_CASE(defaults) {
  auto c = load_config({}, lookup);
  BOOST_TEST(c.cache.ttl_minutes == 360);
  BOOST_TEST(c.cache.refresh_interval_hours == 6.0);
  BOOST_TEST(c.cache.max_concurrent_refreshes == 3);
  BOOST_TEST(c.cache.enable_background_refresh);
  BOOST_TEST(c.cache.retry_base_seconds == 5.0);
  BOOST_TEST(c.cache.refresh_timeout_seconds == 300.0);
  BOOST_TEST(c.cache.debounce_ms == 100);
  BOOST_TEST(c.net.host == "127.0.0.1");
  BOOST_TEST(c.net.port == 8765);
  BOOST_TEST(c.cache.db_path == home.path() / "cache" / "projcache.db");
  BOOST_TEST(c.cache.search_roots.size() == 4u);
  BOOST_TEST(!c.net.api_key);
  BOOST_TEST(!c.cache.marketplace_url);
  BOOST_TEST(c.cache.max_cache_size_bytes == 500LL * 1024 * 1024);
  BOOST_TEST(c.cache.retention_days == 30.0);
}

BOOST_AUTO_TEST_CASE(flags_beat_env_beat_file) {
  write_file(home / "config.toml", "[cache]\nttl_minutes = 10\nport = 1111\ndebounce_ms = 7\nsearch_roots = [\"/a\", \"/b\"]\n");
  fake_env["SKILLMEAT_CACHE_TTL_MINUTES"] = "20";
  fake_env["SKILLMEAT_CACHE_PORT"] = "2222";
  auto c = load_config({{"port", {"3333"}}}, lookup);
  BOOST_TEST(c.cache.ttl_minutes == 20);   // env over file
  BOOST_TEST(c.net.port == 3333);          // flag over env
  BOOST_TEST(c.cache.debounce_ms == 7);    // file over default
  BOOST_TEST(c.cache.search_roots.size() == 2u);
  fake_env["SKILLMEAT_CACHE_SEARCH_ROOTS"] = "/x:/y:/z";
  BOOST_TEST(load_config({}, lookup).cache.search_roots.size() == 3u);
}

BOOST_AUTO_TEST_CASE(bad_values_name_key_and_source) {
  fake_env["SKILLMEAT_CACHE_TTL_MINUTES"] = "soon";
  BOOST_CHECK_EXCEPTION(load_config({}, lookup), config_error, [](const config_error& e) {
    std::string m = e.what();
    return m.find("ttl_minutes") != std::string::npos && m.find("SKILLMEAT_CACHE_TTL_MINUTES") != std::string::npos;
  });
  fake_env.erase("SKILLMEAT_CACHE_TTL_MINUTES");
  BOOST_CHECK_THROW(load_config({{"refresh_interval_hours", {"-1"}}}, lookup), config_error);
  BOOST_CHECK_THROW(load_config({{"port", {"70000"}}}, lookup), config_error);
  BOOST_CHECK_THROW(load_config({{"enable_background_refresh", {"maybe"}}}, lookup), config_error);
  BOOST_CHECK_THROW(load_config({{"marketplace_url", {"ftp://x"}}}, lookup), config_error);
  BOOST_CHECK_THROW(load_config({{"event_ring_size", {"500"}}}, lookup), config_error);  // below the contract's 10,000
  BOOST_TEST(load_config({{"event_ring_size", {"20000"}}}, lookup).event_ring_size == 20000u);
  BOOST_CHECK_THROW(load_config({{"max_cache_size_mb", {"0"}}}, lookup), config_error);
  BOOST_CHECK_THROW(load_config({{"cleanup_retention_days", {"-3"}}}, lookup), config_error);
  fake_env["SKILLMEAT_CACHE_MAX_CACHE_SIZE_MB"] = "64";
  BOOST_TEST(load_config({}, lookup).cache.max_cache_size_bytes == 64LL * 1024 * 1024);
  fake_env.erase("SKILLMEAT_CACHE_MAX_CACHE_SIZE_MB");
  write_file(home / "config.toml", "[cache]\nmax_concurrent_refreshes = \"lots\"\n");
  BOOST_CHECK_EXCEPTION(load_config({}, lookup), config_error, [&](const config_error& e) {
    return std::string(e.what()).find("config.toml [cache] line 2") != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(unknown_keys_warn_and_malformed_file_fails) {
  write_file(home / "config.toml", "[cache]\nttl_minutes = 5\nfancy = 1\n[other]\nx = 1\n");
  auto c = load_config({}, lookup);
  BOOST_TEST(c.cache.ttl_minutes == 5);
  BOOST_REQUIRE(c.warnings.size() == 1u);
  BOOST_TEST(c.warnings[0].find("fancy") != std::string::npos);
  write_file(home / "config.toml", "[cache\n");
  BOOST_CHECK_EXCEPTION(load_config({}, lookup), config_error,
                        [](const config_error& e) { return std::string(e.what()).find("config.toml:1") != std::string::npos; });
}

BOOST_AUTO_TEST_CASE(api_key_from_skillmeat_environment) {
  fake_env["SKILLMEAT_API_KEY_ENABLED"] = "true";
  BOOST_CHECK_THROW(load_config({}, lookup), config_error);
  fake_env["SKILLMEAT_API_KEY"] = "k";
  BOOST_TEST(load_config({}, lookup).net.api_key.value() == "k");
  fake_env["SKILLMEAT_API_KEY_ENABLED"] = "false";
  BOOST_TEST(!load_config({}, lookup).net.api_key);
  fake_env["SKILLMEAT_API_KEY_ENABLED"] = "true";
  fake_env["SKILLMEAT_API_KEY"] = "  ";
  BOOST_CHECK_THROW(load_config({}, lookup), config_error);
}

BOOST_AUTO_TEST_CASE(a_blank_api_key_flag_is_refused) {
  // An empty key would let an empty X-API-Key through every route.
  for (const char* blank : {"", " ", "\t "})
    BOOST_CHECK_EXCEPTION(load_config({{"api_key", {blank}}}, lookup), config_error, [](const config_error& e) {
      return std::string(e.what()).find("--api-key is empty or blank") != std::string::npos;
    });
  BOOST_TEST(load_config({{"api_key", {"k"}}}, lookup).net.api_key.value() == "k");
}

BOOST_AUTO_TEST_SUITE_END()
