// projcache serve: the sidecar (contract section 8).
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <boost/log/trivial.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "app/commands.hpp"
#include "app/logging.hpp"
#include "cache/demo_world.hpp"
#include "cache/service.hpp"
#include "events/bus.hpp"
#include "net/app_context.hpp"
#include "net/http_client.hpp"
#include "net/server.hpp"
#include "common/json_text.hpp"
#include "platform/platform.hpp"

namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace projcache::app {

namespace {
// Every connection and WebSocket is a descriptor: the soft limit (often 1,024) is raised to the
// hard one, so max_connections is what limits, not accept failing with EMFILE.
void raise_open_file_limit() {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rl.rlim_cur = rl.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) BOOST_LOG_TRIVIAL(debug) << "cannot raise the open-file limit";
}

// The parent at the very start, before anything could have orphaned us.
const pid_t initial_parent = ::getppid();


void write_port_file(const std::string& path, const std::string& line) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << line << "\n";
    if (!out) throw std::runtime_error("cannot write port file " + tmp);
  }
  fs::rename(tmp, path);
}

// ~/.skillmeat absent and --demo-if-missing: a generated world under the state folder.
void use_demo_world(config& cfg) {
  fs::path dir = demo_world_dir();
  auto w = fs::exists(dir / "home") ? cache::demo_world{dir / "home", dir / "dev"} : cache::write_demo_world(dir);
  BOOST_LOG_TRIVIAL(info) << "no SkillMeat home at " << cfg.cache.home.string() << "; serving the demo world in "
                          << dir.string();
  cfg.cache.home = w.home;
  cfg.cache.db_path = w.home / "cache" / "projcache.db";
  cfg.cache.search_roots = {w.search_root};
}
}  // namespace

int cmd_serve(config cfg, const command_args& a) {
  const auto& vm = *a.vm;
  setup_logging(cfg.log_level, cfg.log_format);
  for (auto& w : cfg.warnings) BOOST_LOG_TRIVIAL(warning) << w;

  bool with_parent = !::isatty(STDIN_FILENO);
  if (vm.count("exit-with-parent")) {
    auto v = vm["exit-with-parent"].as<std::string>();
    if (v != "true" && v != "false") {
      std::cerr << "projcache: invalid value '" << v << "' for exit-with-parent (from --exit-with-parent): expected true or false\n";
      return 2;
    }
    with_parent = v == "true";
  }
  if (vm.count("demo-if-missing") && !fs::exists(cfg.cache.home)) use_demo_world(cfg);
  cfg.net.bench_routes = vm.count("bench-routes") > 0;

  raise_open_file_limit();
  instance_lock lock(cfg.cache.db_path.string());
  if (lock.status() == instance_lock::state::failed) {
    std::cerr << "projcache: " << lock.error() << "\n";
    return 2;
  }
  if (!lock.held()) {
    std::cerr << "projcache: " << lock.busy_message(cfg.cache.db_path.string()) << "\n";
    return exit_locked;
  }

  asio::io_context ioc(cfg.net.threads);
  // The parent's exit raises SIGTERM (platform.hpp): the graceful stop below.
  if (with_parent && !platform::exit_with_parent(ioc, initial_parent)) {
    std::cerr << "projcache: parent process is gone; exiting\n";
    return 0;
  }
  events::bus bus(cfg.event_ring_size);
  // The marketplace fetches through net's client; the cache itself opens no socket.
  cache::service svc(ioc, cfg.cache, bus, [&ioc](std::string url, cache::http_get_done done) {
    net::http_get(ioc, std::move(url), std::move(done));
  });
  try {
    svc.open();
  } catch (const std::exception& e) {
    std::cerr << "projcache: cannot open the cache database " << cfg.cache.db_path.string() << ": " << e.what() << "\n";
    return 1;
  }
  net::app_context app(svc, bus, cfg.net);
  net::server srv(ioc, app);
  std::uint16_t port = 0;
  try {
    port = srv.listen();
  } catch (const std::exception& e) {
    std::cerr << "projcache: cannot listen on " << cfg.net.host << ":" << cfg.net.port << ": " << e.what() << "\n";
    return 1;
  }
  svc.start();

  // Graceful stop: no new connections, WebSockets closed with 1001, in-flight requests
  // finish (at most a few seconds), then the io_context stops and the database closes.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  asio::steady_timer drain(ioc);
  auto deadline = std::make_shared<std::chrono::steady_clock::time_point>();
  std::function<void()> wait_drained = [&] {
    bool idle = app.stats.in_flight.load() == 0 && app.stats.subscribers.load() == 0;
    if (idle || std::chrono::steady_clock::now() > *deadline) {
      ioc.stop();
      return;
    }
    drain.expires_after(std::chrono::milliseconds(20));
    drain.async_wait([&](boost::system::error_code) { wait_drained(); });
  };
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    BOOST_LOG_TRIVIAL(info) << "signal " << sig << ": stopping";
    // A second signal ends the process at once.
    std::signal(SIGINT, [](int) { std::_Exit(130); });
    std::signal(SIGTERM, [](int) { std::_Exit(143); });
    srv.stop();
    svc.stop();
    *deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    wait_drained();
  });

  std::string url = "http://" + (cfg.net.host.find(':') != std::string::npos ? "[" + cfg.net.host + "]" : cfg.net.host) +
                    ":" + std::to_string(port);
  std::string ready = to_json_text(json::object{{"event", "ready"},
                                                   {"port", port},
                                                   {"pid", ::getpid()},
                                                   {"db", cfg.cache.db_path.string()},
                                                   {"url", url}});
  if (vm.count("port-file")) {
    try {
      write_port_file(vm["port-file"].as<std::string>(), ready);
    } catch (const std::exception& e) {
      std::cerr << "projcache: " << e.what() << "\n";
      return 1;
    }
  }
  lock.record_holder(ready + "\n");
  std::cout << ready << std::endl;
  BOOST_LOG_TRIVIAL(info) << "serving " << url << " (dashboard " << url << "/), home " << cfg.cache.home.string()
                          << ", database " << cfg.cache.db_path.string();

  std::vector<std::thread> threads;
  for (int i = 1; i < cfg.net.threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  BOOST_LOG_TRIVIAL(info) << "stopped";
  return 0;
}

}  // namespace projcache::app
