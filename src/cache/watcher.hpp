#pragma once
// Watches the disk: collections, the profile roots of every cached project and the search roots
// down to the discovery depth. Three parts, wired here: a backend reports file-system facts
// (platform/watch_backend.hpp: inotify or poll), the change router says what each means
// (watch_router.hpp), the debouncer says when to act (debouncer.hpp). A root past inotify's
// watch limit is handed to a poll backend of its own (that root only).
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cache/debouncer.hpp"
#include "cache/queries.hpp"
#include "cache/settings.hpp"
#include "cache/watch_router.hpp"
#include "platform/watch_backend.hpp"

namespace projcache::events {
class bus;
}

namespace projcache::cache {

class read_model;
class refresh_job;

class watcher {
 public:
  watcher(boost::asio::io_context& ioc, const settings& cfg, const read_model& reads, refresh_job& job, events::bus& bus);
  ~watcher();
  // Starts the configured backend (settings::watcher) and watches everything. "auto" is the
  // platform's native backend, or poll where there is none or it cannot start. False (with a
  // warning) when no backend could start.
  bool start();
  void stop();
  // Re-reads the set of folders to watch from the cache (after projects come or go).
  void resync();
  watcher_state state() const;
  std::uint64_t events_seen() const { return events_seen_.load(); }
  // Test seam: handle the kernel's queue overflow as if it had happened.
  void inject_overflow();
  // Test seam, before start(): at most `watches` inotify watches (past them add_watch fails as at
  // the kernel's limit), and the fallback poller of the roots that got none ticks every `poll_interval`.
  void limit_watches(std::size_t watches, std::chrono::milliseconds poll_interval);
  // Keys waiting for their debounce (projects, collections, a rescan); 0 when the watcher is quiet.
  std::size_t pending() const { return debounce_.pending(); }

 private:
  platform::backend_context context();
  std::unique_ptr<platform::watch_backend> make_backend(const std::string& which);
  void on_changes(std::vector<platform::fs_change>&& batch);
  void on_overflow();
  void on_limit(const std::string& root);
  void fire(const debounce_key& k);
  std::shared_ptr<const change_router> router() const;
  // The watched roots that inotify's watch limit handed to the fallback poller.
  std::vector<platform::watch_root> polled_roots() const;
  // The world as the router sees it, and the folders to watch for it (reads the file system).
  std::pair<watch_world, std::vector<platform::watch_root>> plan() const;
  bool relevant_for_project(const std::string& id, const std::string& root_path, const std::string& rel) const;

  const settings& cfg_;
  const read_model& reads_;
  refresh_job& job_;
  events::bus& bus_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  debouncer debounce_;
  std::unique_ptr<platform::watch_backend> backend_, fallback_;
  std::vector<platform::watch_root> roots_;
  std::set<std::string> fallback_roots_;
  std::size_t watch_cap_ = SIZE_MAX;                       // limit_watches()
  std::chrono::milliseconds fallback_interval_{1000};     // limit_watches()
  mutable std::mutex mu_;  // router_ (a poll walk asks it from its thread), names_ and fallback_list_
  std::shared_ptr<const change_router> router_;
  std::string backend_name_;
  std::vector<std::string> fallback_list_;
  std::atomic<bool> running_{false};
  std::atomic<std::uint64_t> events_seen_{0};
};

}  // namespace projcache::cache
