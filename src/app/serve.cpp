// projcache serve: the sidecar (contract section 8).
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <boost/log/trivial.hpp>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "app/commands.hpp"
#include "app/logging.hpp"
#include "app/server_registry.hpp"
#include "app/start_undo.hpp"
#include "cache/demo_world.hpp"
#include "cache/service.hpp"
#include "common/json_text.hpp"
#include "events/bus.hpp"
#include "net/app_context.hpp"
#include "net/http_client.hpp"
#include "net/server.hpp"
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

// --exit-with-parent true|false; by default when stdin is not a terminal (a sidecar's is a pipe).
std::optional<bool> exit_with_parent_flag(const boost::program_options::variables_map& vm) {
  if (!vm.count("exit-with-parent")) return !::isatty(STDIN_FILENO);
  auto v = vm["exit-with-parent"].as<std::string>();
  if (v == "true" || v == "false") return v == "true";
  std::cerr << "projcache: invalid value '" << v << "' for --exit-with-parent: expected true or false\n";
  return std::nullopt;
}

// What to tell a user whose port cannot be bound: who has it, and the ways on.
std::string bind_error(const net::options& o, const boost::system::error_code& ec) {
  std::string port = std::to_string(o.port);
  if (ec == asio::error::address_in_use) {
    if (auto s = server_registry().find(o.port))
      return "port " + port + " is in use by projcache pid " + std::to_string(s->pid) + " at " + s->url +
             "; use --port 0 or stop it";
    return "port " + port + " is in use by another program; use --port 0 (any free port) or stop it";
  }
  std::string where = "cannot listen on " + o.host + ":" + port + ": ";
  if (ec == asio::error::access_denied) return where + "permission denied; use a port above 1023, or --port 0";
  if (ec == boost::system::errc::address_not_available || ec == asio::error::invalid_argument)
    return where + "no such address here; use --host 127.0.0.1 (or this machine's address)";
  return where + ec.message();
}

// The home and database served: the user's, or with --demo-if-missing and a home without
// collections (a new user, or a ~/.skillmeat holding only a cache), a generated demo world.
void choose_world(config& cfg, bool demo_if_missing, start_undo& undo) {
  if (!demo_if_missing || home_has_collections(cfg.cache.home)) return;
  fs::path dir = demo_world_dir();
  undo.note(dir);
  auto w = fs::exists(dir / "home") ? cache::demo_world{dir / "home", dir / "dev"} : cache::write_demo_world(dir);
  BOOST_LOG_TRIVIAL(info) << "no SkillMeat collections in " << cfg.cache.home.string()
                          << "; serving the demo world in " << dir.string();
  cfg.cache.home = w.home;
  cfg.cache.db_path = w.home / "cache" / "projcache.db";
  cfg.cache.search_roots = {w.search_root};
}

// The start banner: what is served where, and which search roots are not there yet.
void banner(const config& cfg, const std::string& url, const cache::service& svc) {
  auto f = svc.figures();
  std::string watcher = f.watcher.backend.empty() ? "off" : f.watcher.backend;
  std::ostringstream t;
  t << "projcache " << PROJCACHE_VERSION << " serving " << url << "\n"
    << "  dashboard  " << url << "/\n"
    << "  home       " << cfg.cache.home.string() << "\n"
    << "  database   " << cfg.cache.db_path.string() << "\n"
    << "  watcher    " << watcher << "\n";
  json::array roots;
  std::error_code ec;
  for (std::size_t i = 0; i < cfg.cache.search_roots.size(); ++i) {
    const auto& r = cfg.cache.search_roots[i];
    bool exists = fs::is_directory(r, ec);
    t << (i == 0 ? "  search     " : "             ") << r.string()
      << (exists ? "" : "  (missing: will be watched when it appears)") << "\n";
    roots.push_back(json::object{{"path", r.string()}, {"exists", exists}});
  }
  if (roots.empty()) t << "  search     none (set search_roots in config.toml, or --search-roots DIR)\n";
  t << "  projects   " << f.status.total_projects << (svc.ready() ? "" : " cached; the first refresh is running");
  log_record("started", t.str(),
             json::object{{"version", PROJCACHE_VERSION}, {"url", url}, {"dashboard", url + "/"},
                          {"home", cfg.cache.home.string()}, {"database", cfg.cache.db_path.string()},
                          {"watcher", watcher}, {"search_roots", std::move(roots)},
                          {"projects", f.status.total_projects}});
}

// SIGINT/SIGTERM: no new connections, WebSockets closed with 1001, in-flight requests finish (at
// most a few seconds), then the io_context stops and the database closes. A second signal ends
// the process at once.
class graceful_stop {
 public:
  graceful_stop(asio::io_context& ioc, net::server& srv, cache::service& svc, net::app_context& app)
      : ioc_(ioc), srv_(srv), svc_(svc), app_(app), signals_(ioc, SIGINT, SIGTERM), drain_(ioc) {
    signals_.async_wait([this](boost::system::error_code ec, int sig) {
      if (ec) return;
      BOOST_LOG_TRIVIAL(info) << "signal " << sig << ": stopping";
      std::signal(SIGINT, [](int) { std::_Exit(130); });
      std::signal(SIGTERM, [](int) { std::_Exit(143); });
      begin();
    });
  }
  // The server cannot go on (any thread): the same stop, then exit code 1.
  void fail() {
    asio::post(ioc_, [this] {
      exit_code_ = 1;
      signals_.cancel();
      begin();
    });
  }
  int exit_code() const { return exit_code_; }

 private:
  void begin() {
    if (begun_.exchange(true)) return;  // a signal and a failure may both come
    srv_.stop();
    svc_.stop();
    deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    wait_drained();
  }
 private:
  void wait_drained() {
    bool idle = app_.stats.in_flight.load() == 0 && app_.stats.subscribers.load() == 0;
    if (idle || std::chrono::steady_clock::now() > deadline_) return ioc_.stop();
    drain_.expires_after(std::chrono::milliseconds(20));
    drain_.async_wait([this](boost::system::error_code) { wait_drained(); });
  }
  asio::io_context& ioc_;
  net::server& srv_;
  cache::service& svc_;
  net::app_context& app_;
  asio::signal_set signals_;
  std::atomic<int> exit_code_{0};
  std::atomic<bool> begun_{false};
  asio::steady_timer drain_;
  std::chrono::steady_clock::time_point deadline_;
};

// The ready line (stdout, the port file, the lock file, the registry), then the banner.
bool announce(const config& cfg, const command_args& a, std::uint16_t port, instance_lock& lock,
              const cache::service& svc) {
  std::string url = "http://" + (cfg.net.host.find(':') != std::string::npos ? "[" + cfg.net.host + "]" : cfg.net.host) +
                    ":" + std::to_string(port);
  std::string ready = to_json_text(json::object{
      {"event", "ready"}, {"port", port}, {"pid", ::getpid()}, {"db", cfg.cache.db_path.string()}, {"url", url}});
  if (a.vm->count("port-file")) {
    try {
      write_port_file((*a.vm)["port-file"].as<std::string>(), ready);
    } catch (const std::exception& e) {
      std::cerr << "projcache: " << e.what() << "\n";
      return false;
    }
  }
  lock.record_holder(ready + "\n");
  server_registry().record(port, ready);
  std::cout << ready << std::endl;
  banner(cfg, url, svc);
  return true;
}

// Once the first full refresh is done, one line saying what it found (the banner came before it).
class first_refresh_note {
 public:
  first_refresh_note(asio::io_context& ioc, const cache::service& svc) : svc_(svc), timer_(ioc) { check(); }

 private:
  void check() {
    if (svc_.ready()) {
      auto s = svc_.figures().status;
      BOOST_LOG_TRIVIAL(info) << "first refresh done: " << s.total_projects << " project(s), " << s.total_artifacts << " artifact(s), "
                              << s.outdated_artifacts << " outdated";
      return;
    }
    timer_.expires_after(std::chrono::milliseconds(50));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) check();
    });
  }
  const cache::service& svc_;
  asio::steady_timer timer_;
};

void run_threads(asio::io_context& ioc, int threads) {
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
}
}  // namespace

int cmd_serve(config cfg, const command_args& a) {
  platform::limit_allocator_arenas();  // before the first thread
  setup_logging(cfg.log_level, cfg.log_format);
  for (auto& w : cfg.warnings) BOOST_LOG_TRIVIAL(warning) << w;
  auto with_parent = exit_with_parent_flag(*a.vm);
  if (!with_parent) return 2;
  cfg.net.bench_routes = a.vm->count("bench-routes") > 0;
  raise_open_file_limit();

  asio::io_context ioc(cfg.net.threads);
  // The port first: a start that cannot serve must not have touched the disk.
  boost::system::error_code ec;
  auto acceptor = net::bind_acceptor(ioc, cfg.net.host, cfg.net.port, ec);
  if (ec) {
    std::cerr << "projcache: " << bind_error(cfg.net, ec) << "\n";
    return 1;
  }
  start_undo undo;
  choose_world(cfg, a.vm->count("demo-if-missing") > 0, undo);
  for (auto* suffix : {"", ".lock", "-wal", "-shm"}) undo.note(cfg.cache.db_path.string() + suffix);
  instance_lock lock(cfg.cache.db_path.string());
  if (int rc = lock_or_complain(lock, cfg)) return rc;
  // The parent's exit raises SIGTERM (platform.hpp): the graceful stop below.
  if (*with_parent && !platform::exit_with_parent(ioc, initial_parent)) {
    std::cerr << "projcache: parent process is gone; exiting\n";
    return 0;
  }
  events::bus bus(cfg.event_ring_size);
  // The marketplace fetches through net's client; the cache itself opens no socket.
  cache::service svc(ioc, cfg.cache, bus, [&ioc](std::string url, cache::http_get_done done) {
    net::http_get(ioc, std::move(url), std::move(done));
  });
  try {
    svc.open(cache::integrity_check::beside_serving);  // the port opens without waiting for it
  } catch (const std::exception& e) {
    std::cerr << "projcache: cannot open the cache database " << cfg.cache.db_path.string() << ": " << e.what() << "\n";
    return 1;
  }
  net::app_context app(svc, bus, cfg.net);
  net::server srv(ioc, app);
  std::uint16_t port = srv.listen(std::move(acceptor));
  graceful_stop stop(ioc, srv, svc, app);
  cache::start_options start;
  start.on_fatal = [&stop](const std::string&) { stop.fail(); };  // already logged
  svc.start(start);
  if (!announce(cfg, a, port, lock, svc)) return 1;
  undo.commit();
  first_refresh_note note(ioc, svc);

  run_threads(ioc, cfg.net.threads);
  server_registry().forget(port);
  svc.close(true);  // keeps the rows for the next start
  BOOST_LOG_TRIVIAL(info) << "stopped";
  return stop.exit_code();
}

}  // namespace projcache::app
