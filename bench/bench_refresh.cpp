// Refresh timings in-process, on a world written by gen_world.py:
//   cold: empty database, every file hashed;  warm: forced refresh, nothing changed;
//   single: one file edited in one project, that project's refresh (scan + diff + write).
//   usage: bench_refresh HOME DEV DB [ROUNDS [WARM_ROUNDS]]     prints one JSON object
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/trivial.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include "cache/scan_caches.hpp"
#include "cache/service.hpp"
#include "common/paths.hpp"
#include "events/bus.hpp"

using namespace projcache;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {
// This process's CPU time, user and system, every thread: the work a refresh did, which a
// busy or slow disk does not blur as it does the wall time.
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: bench_refresh HOME DEV DB [ROUNDS]\n";
    return 2;
  }
  int rounds = argc > 4 ? std::atoi(argv[4]) : 20;
  // As the server runs: debug lines filtered out, not written.
  boost::log::core::get()->set_filter(boost::log::trivial::severity >= boost::log::trivial::warning);
  fs::remove(argv[3]);
  fs::remove(std::string(argv[3]) + "-wal");
  cache::settings s;
  s.home = argv[1];
  s.search_roots = {argv[2]};
  s.db_path = argv[3];
  s.scan_threads = 2;
  s.enable_background_refresh = false;
  boost::asio::io_context ioc;
  auto work = boost::asio::make_work_guard(ioc);
  std::thread runner([&] { ioc.run(); });
  events::bus bus;
  cache::service svc(ioc, s, bus);
  svc.open();
  auto& caches = svc.internals().caches;  // for the hashing counters
  struct timed {
    cache::refresh_result result;
    double wall_s, cpu_s;
  };
  auto refresh_all = [&](bool force) {
    std::promise<cache::refresh_result> p;
    auto t0 = clock_type::now();
    double cpu0 = cpu_seconds();
    svc.async_refresh(std::nullopt, force, [&](cache::refresh_result r) { p.set_value(r); });
    auto r = p.get_future().get();
    return timed{r, std::chrono::duration<double>(clock_type::now() - t0).count(), cpu_seconds() - cpu0};
  };
  auto [cold, cold_s, cold_cpu_s] = refresh_all(false);
  auto opened_cold = caches.stats.files_opened.load();
  // The racy-timestamp window: files written by the generator just now are older than 50 ms.
  std::vector<double> warm, warm_cpu;
  int warm_rounds = argc > 5 ? std::atoi(argv[5]) : 3;
  for (int i = 0; i < warm_rounds; ++i) {
    auto t = refresh_all(true);
    warm.push_back(t.wall_s);
    warm_cpu.push_back(t.cpu_s);
  }
  auto opened_warm = caches.stats.files_opened.load() - opened_cold;

  auto snap = svc.current();
  auto project = snap->projects_sorted.at(snap->projects_sorted.size() / 2);
  fs::path target;
  for (auto& a : project->artifacts)
    if (a->type == "command") {
      target = fs::path(project->row.path) / *a->profile_root / *a->artifact_path;
      break;
    }
  std::vector<double> single;
  for (int i = 0; i < rounds; ++i) {
    { std::ofstream(target, std::ios::app) << "edit " << i << "\n"; }
    std::this_thread::sleep_for(std::chrono::milliseconds(60));  // past the racy window, as a watcher's debounce is
    std::promise<cache::refresh_result> p;
    auto t0 = clock_type::now();
    svc.async_refresh(project->row.id, true, [&](cache::refresh_result r) { p.set_value(r); });
    auto r = p.get_future().get();
    single.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
    if (!r.changes_detected) std::cerr << "warning: edit " << i << " not detected\n";
  }
  std::sort(warm.begin(), warm.end());
  std::sort(warm_cpu.begin(), warm_cpu.end());
  std::sort(single.begin(), single.end());
  boost::json::object out{
      {"projects", static_cast<std::int64_t>(snap->projects.size())},
      {"artifacts", static_cast<std::int64_t>(snap->artifacts->items.size())},
      {"cold_refresh_s", cold_s},
      {"cold_refresh_cpu_s", cold_cpu_s},
      {"files_hashed_cold", opened_cold},
      {"warm_refresh_s_median", warm[warm.size() / 2]},
      {"warm_refresh_cpu_s_median", warm_cpu[warm_cpu.size() / 2]},
      {"warm_refresh_s_min", warm.front()},
      {"warm_refresh_s_max", warm.back()},
      {"files_opened_warm", opened_warm},
      {"single_change_ms_median", single[single.size() / 2]},
      {"single_change_ms_p90", single[single.size() * 9 / 10]},
      {"single_change_ms_max", single.back()},
      {"cold_errors", static_cast<std::int64_t>(cold.errors.size())},
  };
  std::cout << boost::json::serialize(out) << std::endl;
  svc.stop();
  work.reset();
  ioc.stop();
  runner.join();
  svc.close(true);  // as serve's exit: the driver's next start reads the kept rows
  return 0;
}
