// The portable watcher: every interval, list each watched folder and lstat its entries, compare
// with the last listing and report the difference. No kernel help, so it works wherever POSIX
// does; it costs CPU in proportion to the watched set (bench/run measures it at 1,000 x 50).
//
// The walk runs on a thread of its own, never on an I/O thread; the timer that starts it and
// the delivery of what it found run on the backend's strand. A folder's entries are compared
// by type, size, mtime, ctime and inode; an entry whose mtime is within 50 ms of the moment it
// was read is "racy" (a write in the same clock tick would leave every field equal) and is
// reported modified on the next visit whatever its fields say (git's racy-timestamp rule).
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "platform/dir_listing.hpp"
#include "platform/file_time.hpp"
#include "platform/watch_backend.hpp"

namespace asio = boost::asio;

namespace projcache::platform {

namespace {


std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double thread_cpu_ms() {
  struct timespec ts;
  if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct stamp {
  bool is_dir = false;
  mode_t mode = 0;
  std::int64_t size = 0, mtime = 0, ctime = 0;
  std::uint64_t ino = 0;
  bool operator==(const stamp&) const = default;
};

stamp stamp_of(const struct stat& s) {
  stamp st;
  st.is_dir = S_ISDIR(s.st_mode);
  st.mode = s.st_mode;
  st.size = static_cast<std::int64_t>(s.st_size);
  st.mtime = mtime_ns(s);
  st.ctime = ctime_ns(s);
  st.ino = static_cast<std::uint64_t>(s.st_ino);
  return st;
}

struct node;

// One entry of a listed folder. A folder inside the depth that enter() accepts has a node.
struct child {
  std::string name;
  stamp st;  // files, links and others: lstat's fields; folders: is_dir only (their node has the rest)
  bool racy = false;
  std::unique_ptr<node> sub;
};

// A watched folder and what its last listing held, sorted by name.
struct node {
  stamp self;             // the folder's own fields: unchanged (and not racy) means the same names
  bool self_racy = true;  // so a first visit always lists
  bool listed = false;
  std::vector<child> children;
};

struct root_state {
  watch_root root;
  node top;
  bool present = false;  // the root existed at its last visit
};

// The walk: owned by the pool's thread while a tick runs, by nobody between ticks. Depth first
// from each root, each folder opened relative to its parent (no whole-path lookups). A folder
// whose own mtime, ctime and inode are unchanged has the same names (POSIX updates a folder's
// mtime when an entry is added, removed or renamed), so it is not listed again: only its
// entries are lstat'ed. That leaves one fstatat per file and one open per folder per tick.
class poll_walk {
 public:
  explicit poll_walk(const backend_context& ctx) : ctx_(ctx) {}

  void set_roots(const std::vector<watch_root>& roots) {
    std::vector<root_state> next;
    for (auto& r : roots) {
      auto it = std::find_if(roots_.begin(), roots_.end(), [&](const root_state& s) { return s.root == r; });
      if (it != roots_.end()) {
        next.push_back(std::move(*it));
      } else {
        next.push_back(root_state{r, {}, false});
        fresh_.push_back(r.path);  // its first listing is its baseline
      }
    }
    roots_ = std::move(next);
    cursor_ = 0;
  }

  // Visits whole roots from the cursor until `budget` entries were compared or each root was
  // visited once; what a root's visit found goes to `flush` at once, not at the tick's end (a
  // change must not wait for the rest of the walk). Returns whether the cycle completed.
  template <class Flush>
  bool tick(std::size_t budget, Flush&& flush) {
    std::size_t spent = 0;
    std::vector<fs_change> out;
    while (cursor_ < roots_.size()) {
      if (spent >= budget) return false;
      spent += visit_root(roots_[cursor_++], out);
      if (!out.empty()) flush(std::exchange(out, {}));
    }
    folders_last_cycle_ = cycle_folders_;
    entries_last_cycle_ = cycle_entries_;
    cycle_folders_ = cycle_entries_ = 0;
    cursor_ = 0;
    fresh_.clear();
    return true;
  }

  std::int64_t folders() const { return folders_last_cycle_; }
  std::int64_t entries() const { return entries_last_cycle_; }

 private:
  struct visit_ctx {
    const watch_root& root;
    std::vector<fs_change>& out;
    std::size_t spent = 0;
  };

  std::size_t visit_root(root_state& r, std::vector<fs_change>& out) {
    bool baseline = std::find(fresh_.begin(), fresh_.end(), r.root.path) != fresh_.end();
    int fd = ::open(r.root.path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      // Gone, or not there yet. A root has no parent listing here to report it, so its removal
      // is reported as inotify's DELETE_SELF would be.
      if (r.present) out.push_back({r.root.path, change_kind::removed, true});
      r.present = false;
      r.top = node{};
      return 1;
    }
    // A root that appears after its baseline: everything in it is new.
    bool report = !baseline || r.present;
    bool contents_new = !baseline && !r.present;
    r.present = true;
    visit_ctx c{r.root, out};
    visit(fd, r.top, r.root.path, 0, report, contents_new, c);  // closes fd
    return c.spent;
  }

  // `report`: differences are changes (false on a baseline). `contents_new`: the folder itself
  // is new, so its entries are reported created on this first listing. Takes `fd`.
  void visit(int fd, node& n, const std::string& path, int depth, bool report, bool contents_new, visit_ctx& c) {
    struct closer {
      int fd;
      ~closer() { ::close(fd); }
    } close_fd{fd};
    ++cycle_folders_;
    struct stat self;
    if (::fstat(fd, &self) != 0) return;
    stamp now_self = stamp_of(self);
    std::int64_t read_at = wall_ns();
    bool same_names = n.listed && !n.self_racy && now_self == n.self;
    n.self = now_self;
    n.self_racy = now_self.mtime > read_at - racy_window_ns;
    if (!same_names || !restat(fd, n, path, c)) relist(fd, n, path, depth, (report && n.listed) || contents_new, c);
    n.listed = true;
    c.spent += n.children.size() + 1;
    cycle_entries_ += static_cast<std::int64_t>(n.children.size());
    // Into the folders below (their own nodes decide whether to list again).
    for (auto& ch : n.children) {
      if (!ch.sub) continue;
      int sub = ::openat(fd, ch.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) continue;  // gone since the listing: the next listing of this folder reports it
      bool sub_new = !ch.sub->listed && report;
      visit(sub, *ch.sub, path + "/" + ch.name, depth + 1, report, sub_new, c);
    }
  }

  // The names are known unchanged: lstat each non-folder entry. False when one vanished or
  // turned into something else (then the folder is listed after all).
  bool restat(int fd, node& n, const std::string& path, visit_ctx& c) {
    std::int64_t read_at = wall_ns();
    for (auto& ch : n.children) {
      if (ch.st.is_dir) continue;
      struct stat s;
      if (::fstatat(fd, ch.name.c_str(), &s, AT_SYMLINK_NOFOLLOW) != 0) return false;
      stamp st = stamp_of(s);
      if (st.is_dir) return false;
      if (ch.racy || !(st == ch.st)) c.out.push_back({path + "/" + ch.name, change_kind::modified, false});
      ch.st = st;
      ch.racy = st.mtime > read_at - racy_window_ns;
    }
    return true;
  }

  // Lists the folder, compares with the last listing (both sorted: one merge) and keeps the new one.
  void relist(int fd, node& n, const std::string& path, int depth, bool report, visit_ctx& c) {
    std::vector<dir_entry> entries;
    if (list_directory(fd, entries) != 0) return;
    std::int64_t read_at = wall_ns();
    std::vector<child> now;
    now.reserve(entries.size());
    for (auto& e : entries) {
      child ch{std::move(e.name), {}, false, nullptr};
      if (e.type == entry_type::directory) {
        ch.st.is_dir = true;  // its own node keeps its fields
      } else {
        struct stat s;
        if (::fstatat(fd, ch.name.c_str(), &s, AT_SYMLINK_NOFOLLOW) != 0) continue;  // vanished meanwhile
        ch.st = stamp_of(s);
        if (ch.st.is_dir) ch.st = stamp{true};
        ch.racy = !ch.st.is_dir && ch.st.mtime > read_at - racy_window_ns;
      }
      now.push_back(std::move(ch));
    }
    auto& old = n.children;
    std::size_t i = 0;
    auto want_node = [&](const child& ch) {
      return ch.st.is_dir && depth < c.root.max_depth && ctx_.enter(c.root, path, ch.name);
    };
    for (auto& ch : now) {
      while (i < old.size() && old[i].name < ch.name) {
        c.out.push_back({path + "/" + old[i].name, change_kind::removed, old[i].st.is_dir});
        ++i;
      }
      bool same_name = i < old.size() && old[i].name == ch.name;
      if (same_name && old[i].st.is_dir == ch.st.is_dir) {
        if (!ch.st.is_dir && (old[i].racy || !(old[i].st == ch.st)) && report)
          c.out.push_back({path + "/" + ch.name, change_kind::modified, false});
        ch.sub = std::move(old[i].sub);
      } else {
        if (same_name) c.out.push_back({path + "/" + ch.name, change_kind::removed, old[i].st.is_dir});
        if (report) c.out.push_back({path + "/" + ch.name, change_kind::created, ch.st.is_dir});
      }
      if (same_name) ++i;
      if (want_node(ch) && !ch.sub) ch.sub = std::make_unique<node>();
      if (!want_node(ch)) ch.sub.reset();
    }
    for (; i < old.size(); ++i) c.out.push_back({path + "/" + old[i].name, change_kind::removed, old[i].st.is_dir});
    n.children = std::move(now);
  }

  const backend_context& ctx_;
  std::vector<root_state> roots_;
  std::vector<std::string> fresh_;  // roots added since the cycle began: their first visit is silent
  std::size_t cursor_ = 0;
  std::int64_t cycle_entries_ = 0, cycle_folders_ = 0, entries_last_cycle_ = 0, folders_last_cycle_ = 0;
};

class poll_backend final : public watch_backend {
 public:
  poll_backend(const backend_context& ctx, poll_options opts)
      : core_(std::make_shared<core>(ctx, opts)) {}
  ~poll_backend() override {
    core_->stopped = true;
    core_->timer.cancel();
    core_->pool.join();  // a walk in progress finishes; its delivery sees `stopped`
  }

  bool start() override { return true; }

  void watch(const std::vector<watch_root>& roots) override {
    {
      std::lock_guard lk(core_->mu);
      core_->next_roots = roots;
    }
    // New roots get their first listing (their baseline) now, not an interval later: a tick
    // that is waiting is brought forward; one that is walking picks them up at its next start.
    if (!core_->walking) schedule(core_, std::chrono::milliseconds(0));
  }

  void stop() override {
    core_->stopped = true;
    core_->timer.cancel();
  }

  backend_figures figures() const override {
    std::lock_guard lk(core_->mu);
    backend_figures f = core_->figures;
    f.backend = "poll";
    f.interval_ms = core_->opts.interval.count();
    return f;
  }

 private:
  struct core {
    core(const backend_context& c, poll_options o) : ctx(c), opts(o), timer(c.strand), walk(ctx) {}
    backend_context ctx;
    poll_options opts;
    asio::steady_timer timer;
    asio::thread_pool pool{1};
    poll_walk walk;  // touched by the pool's thread only
    std::atomic<bool> stopped{false};
    bool walking = false;      // a walk is on the pool's thread (strand)
    std::uint64_t generation = 0;  // of the timer's current wait: an older wait was superseded
    mutable std::mutex mu;
    std::optional<std::vector<watch_root>> next_roots;
    backend_figures figures;
  };

  // On the strand. Re-arming supersedes a pending wait (its handler sees an old generation).
  static void schedule(const std::shared_ptr<core>& c, std::chrono::milliseconds after) {
    schedule_at(c, std::chrono::steady_clock::now() + after);
  }
  static void schedule_at(const std::shared_ptr<core>& c, std::chrono::steady_clock::time_point at) {
    auto gen = ++c->generation;
    c->timer.expires_at(at);
    c->timer.async_wait([c, gen](boost::system::error_code ec) {
      if (ec || c->stopped || gen != c->generation) return;
      c->walking = true;
      asio::post(c->pool, [c] { walk_once(c); });
    });
  }

  static void walk_once(const std::shared_ptr<core>& c) {
    double cpu0 = thread_cpu_ms();
    auto t0 = std::chrono::steady_clock::now();
    std::optional<std::vector<watch_root>> roots;
    {
      std::lock_guard lk(c->mu);
      roots.swap(c->next_roots);
    }
    if (roots) c->walk.set_roots(*roots);
    c->walk.tick(c->opts.max_entries_per_tick, [&c](std::vector<fs_change>&& batch) {
      asio::post(c->ctx.strand, [c, batch = std::move(batch)]() mutable {
        if (!c->stopped) c->ctx.changed(std::move(batch));
      });
    });
    auto took = std::chrono::steady_clock::now() - t0;
    {
      std::lock_guard lk(c->mu);
      auto& f = c->figures;
      ++f.ticks;
      f.last_tick_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      f.cpu_ms_total += thread_cpu_ms() - cpu0;
      f.watches = c->walk.folders();
      f.entries = c->walk.entries();
    }
    auto took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(took);
    asio::post(c->ctx.strand, [c, t0, took_ms] {
      c->walking = false;
      if (c->stopped) return;
      bool more;
      {
        std::lock_guard lk(c->mu);
        more = c->next_roots.has_value();  // watch() was called during the walk
      }
      // Ticks start an interval apart, on the clock (no drift from the hand-offs), so a change
      // waits at most one interval; a tick slower than that is followed by as long a rest, so
      // the walk takes at most half a core.
      auto now = std::chrono::steady_clock::now();
      if (more) schedule_at(c, now);
      else schedule_at(c, took_ms < c->opts.interval ? t0 + c->opts.interval : now + took_ms);
    });
  }

  std::shared_ptr<core> core_;
};

}  // namespace

std::unique_ptr<watch_backend> make_poll_backend(const backend_context& ctx, poll_options opts) {
  return std::make_unique<poll_backend>(ctx, opts);
}

}  // namespace projcache::platform
