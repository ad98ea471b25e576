#include "cache/watcher.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <boost/log/trivial.hpp>
#include <cerrno>
#include <cstring>

#include "cache/discovery.hpp"
#include "cache/manager.hpp"
#include "cache/refresh.hpp"
#include "events/bus.hpp"

namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace projcache::cache {

namespace {
constexpr std::uint32_t watch_mask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
                                     IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB | IN_ONLYDIR;
constexpr auto max_wait = std::chrono::seconds(1);
constexpr int unlimited_depth = 64;

// Editor and tool droppings that never change a derived row (SkillMeat's watcher rules).
bool ignored_name(const std::string& name) {
  if (name.empty()) return false;
  static const char* suffixes[] = {"~", ".tmp", ".swp", ".swo", ".swx", ".swpx", ".bak", ".part"};
  for (auto* s : suffixes)
    if (name.ends_with(s)) return true;
  return name.starts_with(".#") || name == "4913" || name == ".DS_Store" || name == ".git" ||
         name == "node_modules" || name == "__pycache__";
}

bool ignored_path(const std::string& path) {
  return path.find("/.git/") != std::string::npos || path.find("/node_modules/") != std::string::npos ||
         path.find("/__pycache__/") != std::string::npos;
}

bool under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}
}  // namespace

watcher::watcher(asio::io_context& ioc, manager& m, refresh_job& job, events::bus& bus)
    : mgr_(m), job_(job), bus_(bus), strand_(asio::make_strand(ioc)), buf_(64 * 1024), fallback_timer_(strand_) {}

watcher::~watcher() {
  if (fd_ && fd_->is_open()) {
    boost::system::error_code ec;
    fd_->close(ec);
  }
}

bool watcher::start() {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    BOOST_LOG_TRIVIAL(warning) << "inotify unavailable (" << std::strerror(errno)
                               << "): changes are seen at the periodic refresh only";
    return false;
  }
  fd_ = std::make_unique<asio::posix::stream_descriptor>(strand_, fd);
  running_ = true;
  asio::post(strand_, [this] {
    resync();
    read_loop();
  });
  return true;
}

void watcher::stop() {
  if (!running_.exchange(false)) return;
  // Runs on the watcher's strand; the descriptor closes with it (or in the destructor).
  asio::post(strand_, [this] {
    for (auto& [wd, _] : watches_) ::inotify_rm_watch(fd_->native_handle(), wd);
    watches_.clear();
    by_path_.clear();
    watch_count_ = 0;
    for (auto& [_, p] : debounce_) p.timer->cancel();
    debounce_.clear();
    pending_ = 0;
    fallback_timer_.cancel();
    boost::system::error_code ec;
    fd_->close(ec);
  });
}

watcher_state watcher::state() const {
  watcher_state s;
  s.running = running_.load();
  s.watches = watch_count_.load();
  std::lock_guard lk(state_mu_);
  s.fallback_roots = fallback_list_;
  return s;
}

void watcher::read_loop() {
  if (!running_) return;
  fd_->async_read_some(asio::buffer(buf_), [this](boost::system::error_code ec, std::size_t n) {
    if (ec) {
      if (ec != asio::error::operation_aborted && running_)
        BOOST_LOG_TRIVIAL(error) << "inotify read failed: " << ec.message();
      return;
    }
    std::size_t off = 0;
    while (off + sizeof(inotify_event) <= n) {
      auto* ev = reinterpret_cast<const inotify_event*>(buf_.data() + off);
      std::string name = ev->len ? std::string(ev->name, strnlen(ev->name, ev->len)) : std::string();
      handle(ev->wd, ev->mask, name);
      off += sizeof(inotify_event) + ev->len;
    }
    read_loop();
  });
}

bool watcher::add_watch(const fs::path& dir, kind k, int depth, const std::string& fallback_root) {
  std::string p = dir.string();
  if (by_path_.count(p)) return true;
  int wd = -1;
  if (watch_cap_ && watches_.size() >= *watch_cap_)
    errno = ENOSPC;
  else
    wd = ::inotify_add_watch(fd_->native_handle(), p.c_str(), watch_mask);
  if (wd < 0) {
    if (errno == ENOSPC) {
      if (fallback_roots_.insert(fallback_root).second) {
        BOOST_LOG_TRIVIAL(warning) << "inotify watch limit reached (fs.inotify.max_user_watches); "
                                   << fallback_root << " falls back to periodic rescans";
        std::lock_guard lk(state_mu_);
        fallback_list_.assign(fallback_roots_.begin(), fallback_roots_.end());
      }
      fallback_timer_.expires_after(fallback_period_);
      fallback_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || !running_) return;
        for (auto& root : fallback_roots_) {
          if (auto it = profile_roots_.find(root); it != profile_roots_.end()) job_.project_changed(it->second);
        }
        job_.rescan();
      });
    } else if (errno == EACCES || errno == EPERM) {
      BOOST_LOG_TRIVIAL(warning) << "cannot watch " << p << " (permission denied); skipped";
    }
    return false;
  }
  watches_[wd] = watch_info{p, k, depth};
  by_path_[p] = wd;
  return true;
}

void watcher::add_tree(const fs::path& dir, kind k, int depth, int max_depth, const std::string& fallback_root) {
  if (!add_watch(dir, k, depth, fallback_root) || depth >= max_depth) return;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code dec;
    if (!it->is_directory(dec) || it->is_symlink(dec)) continue;
    std::string name = it->path().filename().string();
    if (ignored_name(name)) continue;
    if (k == kind::search_tree) {
      if (is_pruned_folder(name)) continue;
      if (profile_roots_.count(it->path().string())) continue;  // watched as a profile root
    }
    add_tree(it->path(), k, depth + 1, max_depth, fallback_root);
  }
}

void watcher::remove_under(const std::string& path) {
  for (auto it = watches_.begin(); it != watches_.end();) {
    if (it->second.path == path || under(it->second.path, path)) {
      ::inotify_rm_watch(fd_->native_handle(), it->first);
      by_path_.erase(it->second.path);
      it = watches_.erase(it);
    } else {
      ++it;
    }
  }
  watch_count_ = static_cast<std::int64_t>(watches_.size());
}

void watcher::resync() {
  if (!running_) {
    return;
  }
  if (!strand_.running_in_this_thread()) {
    asio::post(strand_, [this] { resync(); });
    return;
  }
  auto snap = mgr_.current();
  const auto& cfg = mgr_.config();
  profile_roots_.clear();
  for (auto& [id, p] : snap->projects)
    for (auto& root : profile_roots_of(p->row.path)) profile_roots_[(fs::path(p->row.path) / root).string()] = id;

  // Mark and sweep: whatever is no longer wanted loses its watch.
  by_path_.clear();
  auto old_watches = std::move(watches_);
  watches_.clear();
  auto keep_or_add = [&](const fs::path& dir, kind k, int max_depth, const std::string& root) {
    add_tree(dir, k, 0, max_depth, root);
  };
  // Re-adding an already watched path returns the same descriptor: cheap and idempotent.
  fs::path collections = cfg.home / "collections";
  std::error_code ec;
  missing_roots_.clear();
  if (fs::is_directory(collections, ec))
    keep_or_add(collections, kind::collections, unlimited_depth, collections.string());
  else
    watch_for_missing(collections);
  for (auto& [root_path, _] : profile_roots_) keep_or_add(root_path, kind::profile_root, unlimited_depth, root_path);
  for (auto& root : cfg.search_roots) {
    if (fs::is_directory(root, ec))
      keep_or_add(root, kind::search_tree, cfg.discovery_depth + 1, root.string());
    else
      watch_for_missing(root);
  }
  for (auto& [wd, info] : old_watches)
    if (!watches_.count(wd)) ::inotify_rm_watch(fd_->native_handle(), wd);
  watch_count_ = static_cast<std::int64_t>(watches_.size());
}

void watcher::watch_for_missing(const fs::path& root) {
  auto normal = root.lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  missing_roots_.push_back(normal);
  std::error_code ec;
  for (fs::path dir = root.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (fs::is_directory(dir, ec)) {
      add_watch(dir, kind::pending_root, 0, root.string());
      return;
    }
    if (dir == dir.root_path()) return;
  }
}

bool watcher::root_appeared(const std::string& dir) {
  bool leads = false;
  for (auto& root : missing_roots_)
    if (root == dir || under(root, dir)) leads = true;
  if (!leads) return false;
  BOOST_LOG_TRIVIAL(info) << dir << " appeared: watching the roots below it";
  std::string collections = (mgr_.config().home / "collections").string();
  bool collections_too = collections == dir || under(collections, dir);
  resync();
  touch_rescan();  // new projects, with their project_added events
  if (collections_too) {
    auto snap = mgr_.current();  // held: a write on another thread may replace the current one
    for (auto& [id, _] : snap->projects) touch_project(id);  // their drift may change
  }
  return true;
}

bool watcher::relevant_for_project(const std::string& id, const std::string& root_path, const std::string& rel) const {
  if (rel.empty() || rel == deployed_file_name || rel == project_file_name) return true;
  auto p = mgr_.project(id);
  if (!p) return true;
  std::string root = fs::path(root_path).filename().string();
  for (auto& a : p->artifacts) {
    if (a->profile_root != root || !a->artifact_path) continue;
    const std::string& ap = *a->artifact_path;
    if (rel == ap || under(rel, ap) || under(ap, rel)) return true;
  }
  return false;
}

void watcher::handle(int wd, std::uint32_t mask, const std::string& name) {
  if (mask & IN_Q_OVERFLOW) {
    on_overflow();
    return;
  }
  auto it = watches_.find(wd);
  if (it == watches_.end()) return;
  if (mask & IN_IGNORED) {
    by_path_.erase(it->second.path);
    watches_.erase(it);
    watch_count_ = static_cast<std::int64_t>(watches_.size());
    return;
  }
  watch_info info = it->second;
  std::string full = name.empty() ? info.path : info.path + "/" + name;
  if (ignored_name(name) || ignored_path(full)) return;
  events_seen_.fetch_add(1, std::memory_order_relaxed);
  bool is_dir = mask & IN_ISDIR;

  if (is_dir && (mask & (IN_CREATE | IN_MOVED_TO)) && root_appeared(full)) return;
  if (info.k == kind::pending_root) return;  // nothing else there is ours
  if (is_dir && (mask & (IN_CREATE | IN_MOVED_TO))) {
    int max_depth = info.k == kind::search_tree ? mgr_.config().discovery_depth + 1 : unlimited_depth;
    add_tree(full, info.k, info.depth + 1, max_depth, info.path);
    watch_count_ = static_cast<std::int64_t>(watches_.size());
  }
  if (is_dir && (mask & IN_MOVED_FROM)) remove_under(full);

  std::string collections = (mgr_.config().home / "collections").string();
  if (under(full, collections) || full == collections) {
    std::string rest = full.size() > collections.size() ? full.substr(collections.size() + 1) : "";
    std::string name_of = rest.substr(0, rest.find('/'));
    auto snap = mgr_.current();
    for (auto& [id, p] : snap->projects)
      if (name_of.empty() || p->collections_used.count(name_of)) touch_project(id);
    return;
  }
  // The profile root holding this path, if any: walk up the ancestors.
  for (std::string dir = full;;) {
    if (auto pr = profile_roots_.find(dir); pr != profile_roots_.end()) {
      std::string rel = dir.size() < full.size() ? full.substr(dir.size() + 1) : "";
      if ((mask & (IN_DELETE_SELF | IN_MOVE_SELF)) && rel.empty()) {
        touch_rescan();
        return;
      }
      if (name == deployed_file_name && (mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)) &&
          full == dir + "/" + deployed_file_name)
        touch_rescan();
      if (relevant_for_project(pr->second, dir, rel)) touch_project(pr->second);
      return;
    }
    auto slash = dir.rfind('/');
    if (slash == std::string::npos || slash == 0) break;
    dir.resize(slash);
  }
  // Under a search root: a folder or a deployment file came or went.
  if (info.k == kind::search_tree &&
      ((is_dir && (mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO))) || name == deployed_file_name ||
       (mask & (IN_DELETE_SELF | IN_MOVE_SELF))))
    touch_rescan();
}

void watcher::touch_project(const std::string& id) {
  auto now = std::chrono::steady_clock::now();
  auto& p = debounce_[id];
  if (!p.timer) {
    ++pending_;
    p.timer = std::make_unique<asio::steady_timer>(strand_);
    p.first = now;
  }
  auto deadline = std::min(now + std::chrono::milliseconds(mgr_.config().debounce_ms), p.first + max_wait);
  p.timer->expires_at(deadline);
  p.timer->async_wait([this, id](boost::system::error_code ec) {
    if (ec || !running_) return;
    debounce_.erase(id);
    --pending_;
    if (id.empty())
      job_.rescan();
    else
      job_.project_changed(id);
  });
}

void watcher::touch_rescan() { touch_project(""); }

void watcher::on_overflow() {
  BOOST_LOG_TRIVIAL(warning) << "inotify queue overflowed: rescanning everything";
  bus_.publish(events::resync_required("inotify queue overflow", true));
  job_.refresh_all(true, nullptr);
  resync();
}

void watcher::inject_overflow() {
  asio::post(strand_, [this] { on_overflow(); });
}

void watcher::limit_watches(std::size_t watches, std::chrono::milliseconds fallback_period) {
  watch_cap_ = watches;
  fallback_period_ = fallback_period;
}

}  // namespace projcache::cache
