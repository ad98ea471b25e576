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

#include "platform/dir_listing.hpp"
#include "platform/file_time.hpp"
#include "platform/watch_backend.hpp"

namespace asio = boost::asio;

namespace projcache::platform {

namespace {

constexpr std::int64_t racy_window_ns = 50'000'000;

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

struct child {
  std::string name;
  stamp st;
  bool racy = false;
};

// One watched folder and what its last listing held.
struct folder {
  std::string path;
  int depth = 0;
  bool listed = false;  // listed at least once: differences from now on are changes
  bool report_contents = false;  // it appeared after the start: its first listing is all new
  std::vector<child> children;
};

// One root: its folders in walk order (new ones appended) and an index by path.
struct root_state {
  watch_root root;
  std::vector<std::optional<folder>> folders;  // nullopt: gone, compacted at the cycle's end
  std::map<std::string, std::size_t> index;
};

bool under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

// The walk: owned by the worker thread while a tick runs, by nobody between ticks.
class poll_walk {
 public:
  explicit poll_walk(const backend_context& ctx) : ctx_(ctx) {}

  void set_roots(const std::vector<watch_root>& roots) {
    std::vector<root_state> next;
    for (auto& r : roots) {
      auto it = std::find_if(roots_.begin(), roots_.end(), [&](const root_state& s) { return s.root == r; });
      if (it != roots_.end()) {
        next.push_back(std::move(*it));
        continue;
      }
      root_state s{r, {}, {}};
      add_folder(s, r.path, 0, false);
      next.push_back(std::move(s));
    }
    roots_ = std::move(next);
    cursor_root_ = cursor_folder_ = 0;
  }

  // Visits folders until `budget` entries were compared or every folder was visited once.
  // Returns whether the cycle completed (the cursor went back to the start).
  bool tick(std::size_t budget, std::vector<fs_change>& out) {
    std::size_t spent = 0;
    while (spent < budget) {
      if (cursor_root_ >= roots_.size()) {
        end_cycle();
        return true;
      }
      auto& r = roots_[cursor_root_];
      if (cursor_folder_ >= r.folders.size()) {
        ++cursor_root_;
        cursor_folder_ = 0;
        continue;
      }
      spent += visit(r, cursor_folder_++, out);
    }
    return false;
  }

  std::int64_t folders() const { return folders_last_cycle_; }
  std::int64_t entries() const { return entries_last_cycle_; }

 private:
  void end_cycle() {
    std::int64_t alive = 0;
    for (auto& r : roots_) {
      // Compact: gone folders leave, the index is rebuilt.
      std::vector<std::optional<folder>> kept;
      r.index.clear();
      for (auto& f : r.folders)
        if (f) {
          r.index[f->path] = kept.size();
          kept.push_back(std::move(f));
        }
      r.folders = std::move(kept);
      alive += static_cast<std::int64_t>(r.folders.size());
    }
    folders_last_cycle_ = alive;
    entries_last_cycle_ = cycle_entries_;
    cycle_entries_ = 0;
    cursor_root_ = cursor_folder_ = 0;
  }

  void add_folder(root_state& r, const std::string& path, int depth, bool report_contents) {
    if (r.index.count(path)) return;
    r.index[path] = r.folders.size();
    folder f;
    f.path = path;
    f.depth = depth;
    f.report_contents = report_contents;
    r.folders.push_back(std::move(f));
  }

  // The folder and everything below it leave the walk (their removal is reported by whoever saw it).
  void drop_tree(root_state& r, const std::string& path) {
    for (auto it = r.index.lower_bound(path); it != r.index.end() && (it->first == path || under(it->first, path));) {
      r.folders[it->second].reset();
      it = r.index.erase(it);
    }
  }

  static bool read_stamp(int dirfd, const dir_entry& e, stamp& st) {
    if (e.type == entry_type::directory) {
      st.is_dir = true;  // a folder's own times change with its entries, which are compared anyway
      return true;
    }
    struct stat s;
    if (::fstatat(dirfd, e.name.c_str(), &s, AT_SYMLINK_NOFOLLOW) != 0) return false;  // vanished meanwhile
    st.is_dir = S_ISDIR(s.st_mode);
    if (st.is_dir) return true;
    st.mode = s.st_mode;
    st.size = static_cast<std::int64_t>(s.st_size);
    st.mtime = mtime_ns(s);
    st.ctime = ctime_ns(s);
    st.ino = static_cast<std::uint64_t>(s.st_ino);
    return true;
  }

  // Lists one folder and reports its differences; returns the entries compared.
  std::size_t visit(root_state& r, std::size_t idx, std::vector<fs_change>& out) {
    if (!r.folders[idx]) return 0;
    folder& f = *r.folders[idx];
    int fd = ::open(f.path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      // Gone (or never there yet). Below the root its parent's listing reports it; the root
      // itself has no parent here, so its removal is reported as inotify's DELETE_SELF would.
      if (f.depth == 0) {
        if (f.listed) out.push_back({f.path, change_kind::removed, true});
        f.listed = false;
        f.children.clear();
        f.report_contents = true;  // when it comes back, all of it is new
      }
      return 1;
    }
    std::vector<dir_entry> entries;
    int err = list_directory(fd, entries);
    if (err) {
      ::close(fd);
      return 1;
    }
    std::vector<child> now;
    now.reserve(entries.size());
    std::int64_t read_at = wall_ns();
    for (auto& e : entries) {
      child c{e.name, {}, false};
      if (!read_stamp(fd, e, c.st)) continue;
      // mtime only, as the hasher decides: a write sets it, so a write in the same tick as our
      // read is what could go unseen. (A recent ctime alone, from chmod or touch -d, is not.)
      c.racy = !c.st.is_dir && c.st.mtime > read_at - racy_window_ns;
      now.push_back(std::move(c));
    }
    ::close(fd);
    bool report = f.listed || f.report_contents;
    std::vector<child> old;
    if (f.listed) old = std::move(f.children);
    const std::string parent = f.path;
    const int depth = f.depth;
    // `f` is not used past here: compare may add folders, and r.folders may move.
    compare(r, parent, depth, old, now, report, out);
    std::size_t n = now.size();
    folder& g = *r.folders[idx];
    g.children = std::move(now);
    g.listed = true;
    cycle_entries_ += static_cast<std::int64_t>(n);
    return n + 1;
  }

  // Both lists are sorted by name: one merge.
  void compare(root_state& r, const std::string& parent, int depth, const std::vector<child>& old,
               const std::vector<child>& now, bool report, std::vector<fs_change>& out) {
    std::size_t i = 0, j = 0;
    auto appeared = [&](const child& c) {
      std::string full = parent + "/" + c.name;
      if (report) out.push_back({full, change_kind::created, c.st.is_dir});
      if (c.st.is_dir && depth < r.root.max_depth && ctx_.enter(r.root, parent, c.name))
        add_folder(r, full, depth + 1, report);
    };
    auto vanished = [&](const child& c) {
      std::string full = parent + "/" + c.name;
      out.push_back({full, change_kind::removed, c.st.is_dir});
      if (c.st.is_dir) drop_tree(r, full);
    };
    while (i < old.size() || j < now.size()) {
      if (j == now.size() || (i < old.size() && old[i].name < now[j].name)) {
        vanished(old[i++]);
      } else if (i == old.size() || now[j].name < old[i].name) {
        appeared(now[j++]);
      } else {
        const child &o = old[i++], &n = now[j++];
        if (o.st.is_dir != n.st.is_dir) {
          vanished(o);
          appeared(n);
        } else if (!n.st.is_dir && (o.racy || !(o.st == n.st))) {
          out.push_back({parent + "/" + n.name, change_kind::modified, false});
        }
      }
    }
  }

  const backend_context& ctx_;
  std::vector<root_state> roots_;
  std::size_t cursor_root_ = 0, cursor_folder_ = 0;
  std::int64_t cycle_entries_ = 0, entries_last_cycle_ = 0, folders_last_cycle_ = 0;
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
    auto gen = ++c->generation;
    c->timer.expires_after(after);
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
    std::vector<fs_change> batch;
    c->walk.tick(c->opts.max_entries_per_tick, batch);
    {
      std::lock_guard lk(c->mu);
      auto& f = c->figures;
      ++f.ticks;
      f.last_tick_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      f.cpu_ms_total += thread_cpu_ms() - cpu0;
      f.watches = c->walk.folders();
      f.entries = c->walk.entries();
    }
    asio::post(c->ctx.strand, [c, batch = std::move(batch)]() mutable {
      c->walking = false;
      if (c->stopped) return;
      if (!batch.empty()) c->ctx.changed(std::move(batch));
      if (c->stopped) return;
      bool more;
      {
        std::lock_guard lk(c->mu);
        more = c->next_roots.has_value();  // watch() was called during the walk
      }
      schedule(c, more ? std::chrono::milliseconds(0) : c->opts.interval);
    });
  }

  std::shared_ptr<core> core_;
};

}  // namespace

std::unique_ptr<watch_backend> make_poll_backend(const backend_context& ctx, poll_options opts) {
  return std::make_unique<poll_backend>(ctx, opts);
}

}  // namespace projcache::platform
