#pragma once
// Watches the disk with inotify inside the io_context: collections, the profile roots of every
// cached project and the search roots down to the discovery depth. A relevant change
// invalidates and refreshes the project(s) it touches after a per-project debounce (trailing,
// with a maximum wait so a constant stream of writes still refreshes).
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/queries.hpp"

namespace projcache::events {
class bus;
}

namespace projcache::cache {

class manager;
class refresh_job;

class watcher {
 public:
  watcher(boost::asio::io_context& ioc, manager& m, refresh_job& job, events::bus& bus);
  ~watcher();
  // Opens inotify and watches everything; false (with a warning) when inotify is unavailable.
  bool start();
  void stop();
  // Re-reads the set of folders to watch from the cache (after projects come or go).
  void resync();
  watcher_state state() const;
  std::uint64_t events_seen() const { return events_seen_.load(); }
  // Test seam: handle the kernel's queue overflow as if it had happened.
  void inject_overflow();
  // Test seam, before start(): at most `watches` inotify watches (past them add_watch fails as at
  // the kernel's limit) and rescans of the roots that fell back every `fallback_period`.
  void limit_watches(std::size_t watches, std::chrono::milliseconds fallback_period);
  // Debounce timers waiting to fire (projects, and a rescan); 0 when the watcher is quiet.
  std::size_t pending() const { return pending_.load(); }

 private:
  // pending_root: the nearest existing ancestor of a search root or collections folder that does
  // not exist yet, watched (that folder only) until the root appears.
  enum class kind { collections, profile_root, search_tree, pending_root };
  struct watch_info {
    std::string path;
    kind k;
    int depth;  // below its search root, for search_tree watches
  };
  struct pending_refresh {
    std::unique_ptr<boost::asio::steady_timer> timer;
    std::chrono::steady_clock::time_point first;
  };

  void read_loop();
  void handle(int wd, std::uint32_t mask, const std::string& name);
  void add_tree(const std::filesystem::path& dir, kind k, int depth, int max_depth, const std::string& fallback_root);
  bool add_watch(const std::filesystem::path& dir, kind k, int depth, const std::string& fallback_root);
  void remove_under(const std::string& path);
  void touch_project(const std::string& id);
  void touch_rescan();
  void on_overflow();
  // A folder that appeared is (or leads to) a root that did not exist: watch it for real now.
  bool root_appeared(const std::string& dir);
  void watch_for_missing(const std::filesystem::path& root);
  bool relevant_for_project(const std::string& id, const std::string& root_path, const std::string& rel) const;

  manager& mgr_;
  refresh_job& job_;
  events::bus& bus_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> fd_;
  std::vector<char> buf_;
  std::unordered_map<int, watch_info> watches_;
  std::optional<std::size_t> watch_cap_;  // limit_watches()
  std::chrono::milliseconds fallback_period_{std::chrono::seconds(30)};
  std::unordered_map<std::string, int> by_path_;
  std::map<std::string, std::string> profile_roots_;  // "<project>/<root>" -> project id
  std::set<std::string> fallback_roots_;
  std::vector<std::string> missing_roots_;  // search roots and collections that do not exist yet
  std::map<std::string, pending_refresh> debounce_;  // project id, or "" for a rescan
  boost::asio::steady_timer fallback_timer_;
  std::atomic<bool> running_{false};
  std::atomic<std::int64_t> watch_count_{0};
  std::atomic<std::uint64_t> events_seen_{0};
  std::atomic<std::size_t> pending_{0};
  mutable std::mutex state_mu_;
  std::vector<std::string> fallback_list_;
};

}  // namespace projcache::cache
