#include "app/commands.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

#include "app/logging.hpp"
#include "app/remote.hpp"
#include "app/server_registry.hpp"
#include "cache/demo_world.hpp"
#include "cache/service.hpp"
#include "net/json_dto.hpp"
#include "common/paths.hpp"
#include "db/connection.hpp"
#include "db/error.hpp"
#include "db/migrations.hpp"
#include "db/repository.hpp"
#include "db/store.hpp"
#include "events/bus.hpp"
#include "common/json_text.hpp"
#include "platform/file_lock.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;

namespace projcache::app {

instance_lock::instance_lock(const std::string& db_path) {
  std::error_code ec;
  auto dir = fs::path(db_path).parent_path();
  if (!dir.empty() && !fs::is_directory(dir, ec) && !fs::create_directories(dir, ec) && ec) {
    error_ = "cannot create the folder " + dir.string() + " for the cache database: " + ec.message() +
             "; choose another --home or SKILLMEAT_CACHE_PATH";
    return;
  }
  if (take(db_path + ".lock", lock_, "the lock file") && take(db_path, db_lock_, "the database"))
    state_ = state::held;
}

bool instance_lock::take(const std::string& path, platform::file_lock& l, const char* what) {
  l = platform::lock_file(path);
  if (l.result == platform::file_lock::outcome::held) return true;
  if (l.result == platform::file_lock::outcome::busy) {
    state_ = state::busy;
  } else if (l.failed_to_open) {
    error_ = std::string("cannot open ") + what + " " + path + ": " + std::strerror(l.error) +
             (l.error == EROFS || l.error == EACCES
                  ? "; the folder must be writable, or choose another --home or SKILLMEAT_CACHE_PATH"
                  : "");
    state_ = state::failed;
  } else {
    error_ = std::string("cannot lock ") + what + " " + path + ": " + std::strerror(l.error);
    state_ = state::failed;
  }
  return false;
}

void instance_lock::record_holder(const std::string& text) {
  // Best effort: the lock is the flock, this is only what a second instance can tell the user.
  platform::rewrite(lock_, text);
}

std::string instance_lock::busy_message(const std::string& db_path) const {
  if (auto s = lock_file_holder(db_path)) {
    const auto& url = s->url;
    return "another projcache server (pid " + std::to_string(s->pid) + ", " + url + ") is using " + db_path +
           ": use its API (curl -X POST " + url + "/api/v1/cache/refresh, GET " + url +
           "/api/v1/cache/status), or stop it first";
  }
  return "another projcache is using " + db_path + " (its lock is held): if it is a server, use its API or stop it; "
         "if it is a command, wait for it to finish";
}

instance_lock::~instance_lock() {
  platform::release(db_lock_);
  platform::release(lock_);
}

int lock_or_complain(instance_lock& l, const config& cfg) {
  if (l.held()) return 0;
  if (l.status() == instance_lock::state::failed) {
    std::cerr << "projcache: " << l.error() << "\n";
    return 2;
  }
  std::cerr << "projcache: " << l.busy_message(cfg.cache.db_path.string()) << "\n";
  return exit_locked;
}

namespace {
template <class F>
int guarded(F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    std::cerr << "projcache: " << e.what() << "\n";
    return 1;
  }
}

// "no cache database at X", and where one is when the demo world is what was served.
int no_database(const config& cfg) {
  std::cerr << "projcache: no cache database at " << cfg.cache.db_path.string();
  fs::path demo = demo_world_dir() / "home";
  if (!home_has_collections(cfg.cache.home) && fs::exists(demo / "cache/projcache.db"))
    std::cerr << "; the demo world's is at " << (demo / "cache/projcache.db").string() << " (use --home "
              << demo.string() << ")";
  else
    std::cerr << "; run 'projcache refresh' or start 'projcache serve' to fill one";
  std::cerr << "\n";
  return 1;
}

// Runs f on a read-only connection (WAL readers need no lock, so this works beside a running
// server); without a database, says where it looked and how to get one.
template <class F>
int with_read_only_store(const config& cfg, F&& f) {
  return guarded([&] {
    if (!fs::exists(cfg.cache.db_path)) return no_database(cfg);
    db::connection c(cfg.cache.db_path.string(), db::connection::mode::read_only);
    return f(c);
  });
}

// A running server holds the database and recorded its URL: unless --offline, the command goes
// through its API.
std::optional<running_server> serving_holder(const instance_lock& l, const config& cfg, bool offline) {
  if (offline || l.status() != instance_lock::state::busy) return std::nullopt;
  return lock_file_holder(cfg.cache.db_path.string());
}

// Opens the cache (this process holds the lock) and runs one call on it to its end. The scans
// run on the service's pool; done may come from any thread.
template <class R, class Call>
R run_on_service(const config& cfg, Call call) {
  setup_logging(cfg.log_level, cfg.log_format);  // to stderr, as the server logs
  boost::asio::io_context ioc;
  events::bus bus;
  cache::service svc(ioc, cfg.cache, bus);
  svc.open();
  std::optional<R> out;
  auto work = boost::asio::make_work_guard(ioc);
  call(svc, [&](R r) {
    out = std::move(r);
    work.reset();
    ioc.stop();
  });
  ioc.run();
  return std::move(*out);
}

// Read-only, no lock: works beside a running server.
int migrate_status(const config& cfg) {
  return with_read_only_store(cfg, [&](db::connection& c) {
    db::migrator m(c);
    for (auto& s : m.status())
      std::cout << (s.applied ? "applied " : "pending ") << s.version << "_" << s.name
                << (s.applied ? " at " + s.applied_at.value_or("") : std::string())
                << (s.checksum_matches ? "" : " CHECKSUM MISMATCH") << "\n";
    return 0;
  });
}
}  // namespace

fs::path demo_world_dir() {
  const char* state = std::getenv("XDG_STATE_HOME");
  return (state && *state ? fs::path(state) : expand_home("~/.local/state")) / "projcache" / "demo";
}

bool home_has_collections(const fs::path& home) {
  std::error_code ec;
  for (fs::directory_iterator it(home / "collections", ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec)) return true;
  return false;
}

int cmd_migrate(const config& cfg, const std::string& action, int steps) {
  if (action == "status") return migrate_status(cfg);
  return guarded([&] {
    instance_lock lock(cfg.cache.db_path.string());
    if (int rc = lock_or_complain(lock, cfg)) return rc;
    fs::create_directories(cfg.cache.db_path.parent_path());
    db::connection c(cfg.cache.db_path.string());
    db::migrator m(c);
    if (action == "up") {
      int n = m.up();
      std::cout << "applied " << n << " migration(s); schema version " << m.current_version() << "\n";
    } else if (action == "down") {
      int n = m.down(steps);
      std::cout << "reverted " << n << " migration(s); schema version " << m.current_version() << "\n";
    } else {
      std::cerr << "projcache migrate: unknown action '" << action << "' (up, down or status)\n";
      return 2;
    }
    return 0;
  });
}

namespace {
// "128 KiB", "3.4 MiB": sizes as a person reads them.
std::string human_bytes(std::int64_t n) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  std::ostringstream o;
  o.precision(u == 0 || v >= 100 ? 0 : 1);
  o << std::fixed << v << " " << units[u];
  return o.str();
}

void print_status_text(const json::object& o, const std::optional<running_server>& server) {
  auto n = [&](const char* k) { return o.at(k).to_number<std::int64_t>(); };
  std::cout << "database   " << o.at("database").as_string().c_str() << " (" << human_bytes(n("cache_size_bytes")) << ")\n"
            << "projects   " << n("total_projects") << " (" << n("stale_projects") << " stale, " << n("error_projects")
            << " failing)\n"
            << "artifacts  " << n("total_artifacts") << " (" << n("outdated_artifacts") << " outdated)\n"
            << "server     "
            << (server ? "running at " + server->url + " (pid " + std::to_string(server->pid) + ")"
                       : std::string("not running (start one with 'projcache serve')"))
            << "\n";
}
}  // namespace

int cmd_status(const config& cfg, status_format format) {
  return with_read_only_store(cfg, [&](db::connection& c) {
    db::repository repo(c);
    auto projects = repo.all_projects();
    micros now = now_micros();
    std::int64_t stale = static_cast<std::int64_t>(repo.stale_projects(now, cfg.cache.ttl_minutes).size());
    std::int64_t errors = 0;
    for (auto& p : projects) errors += p.status == "error";
    db::artifact_filter outdated;
    outdated.is_outdated = true;
    auto server = lock_file_holder(cfg.cache.db_path.string());
    if (server && !still_running(*server)) server.reset();
    json::object o{{"database", cfg.cache.db_path.string()},
                   {"total_projects", projects.size()},
                   {"total_artifacts", repo.count_artifacts()},
                   {"stale_projects", stale},
                   {"error_projects", errors},
                   {"outdated_artifacts", repo.list_artifacts(outdated, 0, 0).total},
                   {"cache_size_bytes", static_cast<std::int64_t>(fs::file_size(cfg.cache.db_path))},
                   {"server", server ? json::value(json::object{{"pid", server->pid}, {"url", server->url}})
                                     : json::value(nullptr)}};
    if (format == status_format::automatic) format = ::isatty(STDOUT_FILENO) ? status_format::text : status_format::json;
    if (format == status_format::text)
      print_status_text(o, server);
    else
      std::cout << to_json_text(o) << "\n";
    return 0;
  });
}

int cmd_refresh(const config& cfg, std::optional<std::string> project, bool force, bool offline) {
  return guarded([&] {
    instance_lock lock(cfg.cache.db_path.string());
    if (auto s = serving_holder(lock, cfg, offline)) {
      auto body = json::object{{"project_id", project ? json::value(*project) : json::value(nullptr)}, {"force", force}};
      return through_server(cfg, *s, "/api/v1/cache/refresh", to_json_text(body), std::chrono::minutes(30),
                            [](unsigned status, const json::value& v) {
                              std::cout << to_json_text(v) << "\n";  // what POST /cache/refresh answered
                              auto* ok = v.is_object() ? v.as_object().if_contains("success") : nullptr;
                              return status == 200 && ok && ok->is_bool() && ok->as_bool() ? 0 : 1;
                            });
    }
    if (int rc = lock_or_complain(lock, cfg)) return rc;
    auto r = run_on_service<cache::refresh_result>(
        cfg, [&](cache::service& svc, auto done) { svc.async_refresh(project, force, std::move(done)); });
    std::cout << to_json_text(net::refresh_result_json(r)) << "\n";  // as POST /cache/refresh answers
    return r.success ? 0 : 1;
  });
}

int cmd_clear(const config& cfg, bool yes, bool offline) {
  return guarded([&] {
    if (!yes) {
      std::cout << "Empty the cache at " << cfg.cache.db_path.string() << "? [y/N] " << std::flush;
      std::string answer;
      std::getline(std::cin, answer);
      if (answer != "y" && answer != "Y" && answer != "yes") {
        std::cout << "nothing done\n";
        return 1;
      }
    }
    instance_lock lock(cfg.cache.db_path.string());
    if (auto s = serving_holder(lock, cfg, offline))
      return through_server(cfg, *s, "/api/v1/projects/cache/clear", "{}", std::chrono::minutes(30),
                            [](unsigned status, const json::value& v) {
                              if (status != 200) {
                                std::cerr << "projcache: the cache could not be emptied: " << reply_detail(v) << "\n";
                                return 1;
                              }
                              std::cout << "cache cleared; " << to_json_text(v.at("projects_found"))
                                        << " project(s) found again by the server\n";
                              return 0;
                            });
    if (int rc = lock_or_complain(lock, cfg)) return rc;
    auto r = run_on_service<std::optional<cache::refresh_result>>(
        cfg, [](cache::service& svc, auto done) { svc.async_clear(false, std::move(done)); });
    std::cout << (r ? "cache cleared\n" : "the cache could not be emptied: the database refuses writes\n");
    return r ? 0 : 1;
  });
}

int cmd_check(const config& cfg, bool full) {
  return guarded([&] {
    if (!fs::exists(cfg.cache.db_path)) return no_database(cfg);
    auto report = db::check_store(cfg.cache.db_path, full);
    std::cout << (full ? "integrity_check: " : "quick_check: ") << report << "\n";
    return report == "ok" ? 0 : 1;
  });
}

int cmd_vacuum(const config& cfg, bool offline) {
  auto show = [](const cache::compact_outcome& r) {
    if (!r.success) {
      std::cerr << "projcache: the database could not be compacted: " << r.error << "; free some disk space and try again\n";
      return 1;
    }
    std::cout << "vacuumed: " << r.before_bytes << " -> " << r.after_bytes << " bytes\n";
    return 0;
  };
  return guarded([&] {
    instance_lock lock(cfg.cache.db_path.string());
    if (auto s = serving_holder(lock, cfg, offline))
      return through_server(cfg, *s, "/api/v1/cache/vacuum", "{}", std::chrono::minutes(30),
                            [&](unsigned status, const json::value& v) {
                              cache::compact_outcome r;
                              r.success = status == 200;
                              r.error = reply_detail(v);
                              if (r.success) {
                                r.before_bytes = v.at("before_bytes").to_number<std::int64_t>();
                                r.after_bytes = v.at("after_bytes").to_number<std::int64_t>();
                              }
                              return show(r);
                            });
    if (int rc = lock_or_complain(lock, cfg)) return rc;
    return show(run_on_service<cache::compact_outcome>(
        cfg, [](cache::service& svc, auto done) { svc.async_compact(std::move(done)); }));
  });
}

int cmd_demo(std::optional<std::string> dir) {
  return guarded([&] {
    fs::path out = dir ? fs::path(*dir) : fs::current_path() / "projcache-demo";
    auto w = cache::write_demo_world(out);
    std::cout << "demo world written:\n  SKILLMEAT_HOME=" << w.home.string()
              << "\n  search root: " << w.search_root.string() << "\n"
              << "serve it: SKILLMEAT_HOME=" << w.home.string() << " SKILLMEAT_CACHE_SEARCH_ROOTS="
              << w.search_root.string() << " projcache serve\n";
    return 0;
  });
}

}  // namespace projcache::app
