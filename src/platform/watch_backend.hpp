#pragma once
// A file-system watcher backend reports facts only: this path was created, removed or
// modified; events were lost (rescan); a root could not be watched whole. What a path means
// to the cache (which project, which collection, whether to rescan) is the change router's
// business (cache/watch_router.hpp), and when to act is the debouncer's. Backends: inotify
// (Linux, linux/inotify_backend.cpp) and poll (everywhere, poll_backend.cpp); FSEvents and
// ReadDirectoryChangesW are designed in docs/platforms.md.
//
// A backend runs on the strand it is given: every sink call is made there, and watch()/stop()
// must be called there.
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace projcache::platform {

enum class change_kind : unsigned char { created, removed, modified };

struct fs_change {
  std::string path;  // absolute, no trailing '/'
  change_kind kind;
  bool is_dir;
};

// A folder to watch and how deep below it: 0 = that folder's entries only.
struct watch_root {
  std::string path;
  int max_depth;
  bool operator==(const watch_root&) const = default;
};

// What a backend knows when asked for its figures (GET /cache/status, /metrics).
struct backend_figures {
  std::string_view backend;
  std::int64_t watches = 0;         // inotify: watches held; poll: folders listed per cycle
  std::int64_t entries = 0;         // poll: entries compared per cycle
  std::uint64_t ticks = 0;          // poll: ticks run
  double last_tick_ms = 0;          // poll: wall time of the last tick
  double cpu_ms_total = 0;          // poll: thread CPU time spent in ticks
  std::int64_t interval_ms = 0;     // poll: the tick interval
};

using strand_type = boost::asio::strand<boost::asio::io_context::executor_type>;

struct backend_context {
  strand_type strand;
  // Sink: each batch in the order the changes happened (as far as the backend can tell).
  std::function<void(std::vector<fs_change>&&)> changed;
  // Events were lost: everything must be rescanned.
  std::function<void()> overflow;
  // The backend could not watch all of this root (inotify's watch limit).
  std::function<void(const std::string& root)> limit_reached;
  // Whether to watch the folder `name` found in `parent` below `root` (false: not entered).
  std::function<bool(const watch_root& root, const std::string& parent, std::string_view name)> enter;
};

class watch_backend {
 public:
  virtual ~watch_backend() = default;
  // Opens what the backend needs; false (with a warning logged) when it is unavailable here.
  virtual bool start() = 0;
  // The whole set to watch from now on, replacing the previous one. Folders already watched
  // stay watched (no change reported); a root that does not exist is ignored until the next call.
  virtual void watch(const std::vector<watch_root>& roots) = 0;
  virtual void stop() = 0;
  virtual backend_figures figures() const = 0;
};

struct poll_options {
  std::chrono::milliseconds interval{1000};
  // Bounded work per tick: at most this many entries are compared in one tick; a larger set
  // is covered over several ticks (the figures say how many).
  std::size_t max_entries_per_tick = 250'000;
};

std::unique_ptr<watch_backend> make_poll_backend(const backend_context& ctx, poll_options opts);
// The platform's own backend (inotify on Linux), or nullptr where there is none (portable).
// Test seam `watch_cap`: at most that many watches, as if the kernel's limit were reached.
std::unique_ptr<watch_backend> make_native_backend(const backend_context& ctx, std::size_t watch_cap = SIZE_MAX);
// The backends `--watcher` accepts in this build, native first ("auto" picks the first).
std::vector<std::string_view> watch_backends();

}  // namespace projcache::platform
