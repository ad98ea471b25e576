#pragma once
// The real binary on a generated world, ready (first scan done) before a test starts.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "support/clients.hpp"
#include "support/process.hpp"
#include "support/world.hpp"

namespace projcache::test {

template <class F>
bool eventually(F&& cond, std::chrono::milliseconds timeout = std::chrono::milliseconds(15000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a condition
  }
  return true;
}

using env_map = std::map<std::string, std::string>;

// A server that ends with a sanitizer report or a non-zero exit on SIGTERM fails the test that ran it.
inline const bool unclean_exits_fail_tests = [] {
  set_unclean_exit_reporter([](const std::string& problem) { BOOST_ERROR(problem); });
  return true;
}();

struct live_server {
  temp_dir dir;
  reference_world w;
  std::map<std::string, std::string> env;
  std::unique_ptr<server_process> proc;

  explicit live_server(std::map<std::string, std::string> extra = {}) {
    w = build_reference_world(dir.path());
    age_tree(w.home);
    age_tree(w.dev);
    env = {{"SKILLMEAT_HOME", w.home.string()},
           {"SKILLMEAT_CACHE_SEARCH_ROOTS", w.dev.string()},
           {"SKILLMEAT_CACHE_DEBOUNCE_MS", "30"},
           {"SKILLMEAT_CACHE_THREADS", "2"}};
    for (auto& [k, v] : extra) env[k] = v;
    proc = std::make_unique<server_process>(std::vector<std::string>{}, env);
    BOOST_REQUIRE_MESSAGE(eventually([&] { return get("/readyz").status == 200; }), "server never became ready");
  }
  std::uint16_t port() const { return proc->port(); }
  http_reply get(const std::string& target, const header_map& h = {}) const { return http_get(port(), target, h); }
  http_reply post(const std::string& target, const std::string& body, const header_map& h = {}) const {
    return http_post(port(), target, body, h);
  }
  boost::json::object get_json(const std::string& target, const header_map& h = {}) const {
    auto r = get(target, h);
    BOOST_REQUIRE_MESSAGE(r.status == 200, target << " answered " << r.status << ": " << r.body);
    return r.json().as_object();
  }
};

}  // namespace projcache::test
