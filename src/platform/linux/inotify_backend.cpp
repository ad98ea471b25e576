// inotify: one watch per folder of each root down to its depth, read inside the io_context.
#include "platform/linux/inotify_backend.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/log/trivial.hpp>
#include <cerrno>
#include <cstring>
#include <set>
#include <unordered_map>

#include "common/path_prefix.hpp"
#include "platform/dir_listing.hpp"

namespace asio = boost::asio;

namespace projcache::platform {

namespace {

constexpr std::uint32_t watch_mask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
                                     IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB | IN_ONLYDIR;

class inotify_backend final : public watch_backend {
 public:
  inotify_backend(const backend_context& ctx, std::size_t cap) : ctx_(ctx), cap_(cap), buf_(64 * 1024) {}
  ~inotify_backend() override { close(); }

  bool start() override {
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
      BOOST_LOG_TRIVIAL(warning) << "inotify unavailable (" << std::strerror(errno)
                                 << "): falling back to the poll watcher";
      return false;
    }
    fd_ = std::make_unique<asio::posix::stream_descriptor>(ctx_.strand, fd);
    read_loop();
    return true;
  }

  void watch(const std::vector<watch_root>& roots) override {
    if (!fd_) return;
    roots_ = roots;
    // Mark and sweep: re-adding a watched folder returns its descriptor, so what is still wanted
    // keeps its watch and the rest is removed.
    auto old = std::move(watches_);
    watches_.clear();
    limited_.clear();
    by_path_.clear();
    // The count is published once the whole plan is in, never halfway: whoever reads "n folders
    // watched" (status, a test waiting for the watcher) may rely on every one of them.
    installing_ = true;
    for (std::size_t i = 0; i < roots_.size(); ++i) add_tree(roots_[i].path, i, 0);
    installing_ = false;
    for (auto& [wd, _] : old)
      if (!watches_.count(wd)) ::inotify_rm_watch(fd_->native_handle(), wd);
    count_ = static_cast<std::int64_t>(watches_.size());
  }

  void stop() override { close(); }

  backend_figures figures() const override {
    backend_figures f;
    f.backend = "inotify";
    f.watches = count_.load();
    return f;
  }

 private:
  struct watch_info {
    std::string path;
    std::size_t root;
    int depth;
  };

  void close() {
    if (!fd_) return;
    boost::system::error_code ec;
    fd_->close(ec);  // the kernel drops every watch with the descriptor
    fd_.reset();
    watches_.clear();
    by_path_.clear();
    count_ = 0;
  }

  void read_loop() {
    fd_->async_read_some(asio::buffer(buf_), [this](boost::system::error_code ec, std::size_t n) {
      if (ec) {
        if (ec != asio::error::operation_aborted && fd_)
          BOOST_LOG_TRIVIAL(error) << "inotify read failed (" << ec.message() << "): changes are no longer seen";
        return;
      }
      std::vector<fs_change> batch;
      bool overflow = false;
      for (std::size_t off = 0; off + sizeof(inotify_event) <= n;) {
        auto* ev = reinterpret_cast<const inotify_event*>(buf_.data() + off);
        std::string name = ev->len ? std::string(ev->name, strnlen(ev->name, ev->len)) : std::string();
        overflow |= translate(ev->wd, ev->mask, name, batch);
        off += sizeof(inotify_event) + ev->len;
      }
      if (!batch.empty()) ctx_.changed(std::move(batch));
      if (overflow) ctx_.overflow();
      if (fd_) read_loop();
    });
  }

  // One kernel event as facts; true on a queue overflow.
  bool translate(int wd, std::uint32_t mask, const std::string& name, std::vector<fs_change>& out) {
    if (mask & IN_Q_OVERFLOW) return true;
    auto it = watches_.find(wd);
    if (it == watches_.end()) return false;
    if (mask & IN_IGNORED) {
      by_path_.erase(it->second.path);
      watches_.erase(it);
      count_ = static_cast<std::int64_t>(watches_.size());
      return false;
    }
    watch_info info = it->second;
    bool is_dir = mask & IN_ISDIR;
    if (mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
      out.push_back({info.path, change_kind::removed, true});
      return false;
    }
    std::string full = info.path + "/" + name;
    if (mask & (IN_CREATE | IN_MOVED_TO)) {
      if (is_dir && info.depth < roots_[info.root].max_depth &&
          ctx_.enter(roots_[info.root], info.path, name)) {
        add_tree(full, info.root, info.depth + 1);
        count_ = static_cast<std::int64_t>(watches_.size());
      }
      out.push_back({full, change_kind::created, is_dir});
    } else if (mask & (IN_DELETE | IN_MOVED_FROM)) {
      if (is_dir) remove_under(full);
      out.push_back({full, change_kind::removed, is_dir});
    } else if (mask & (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB)) {
      out.push_back({full, change_kind::modified, is_dir});
    }
    return false;
  }

  bool add_watch(const std::string& dir, std::size_t root, int depth) {
    if (by_path_.count(dir)) return false;  // already watched (under another root): not again
    int wd = -1;
    if (watches_.size() >= cap_)
      errno = ENOSPC;
    else
      wd = ::inotify_add_watch(fd_->native_handle(), dir.c_str(), watch_mask);
    if (wd < 0) {
      if (errno == ENOSPC) {
        if (!limited_.insert(root).second) return false;  // said once per root
        BOOST_LOG_TRIVIAL(warning) << "inotify watch limit reached (raise fs.inotify.max_user_watches); "
                                   << roots_[root].path << " is polled instead";
        ctx_.limit_reached(roots_[root].path);
      } else if (errno == EACCES || errno == EPERM) {
        BOOST_LOG_TRIVIAL(warning) << "cannot watch " << dir << " (permission denied); skipped";
      }
      return false;
    }
    watches_[wd] = watch_info{dir, root, depth};
    by_path_[dir] = wd;
    if (!installing_) count_ = static_cast<std::int64_t>(watches_.size());
    return true;
  }

  void add_tree(const std::string& dir, std::size_t root, int depth) {
    if (!add_watch(dir, root, depth) || depth >= roots_[root].max_depth) return;
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    std::vector<dir_entry> entries;
    int err = list_directory(fd, entries);
    ::close(fd);
    if (err) return;
    for (auto& e : entries) {
      if (e.type != entry_type::directory && e.type != entry_type::unknown) continue;  // symlinks not followed
      if (!ctx_.enter(roots_[root], dir, e.name)) continue;
      add_tree(dir + "/" + e.name, root, depth + 1);  // a non-folder (unknown type) fails IN_ONLYDIR
    }
  }

  void remove_under(const std::string& path) {
    for (auto it = watches_.begin(); it != watches_.end();) {
      if (path_at_or_under(it->second.path, path)) {
        ::inotify_rm_watch(fd_->native_handle(), it->first);
        by_path_.erase(it->second.path);
        it = watches_.erase(it);
      } else {
        ++it;
      }
    }
    count_ = static_cast<std::int64_t>(watches_.size());
  }

  backend_context ctx_;
  std::size_t cap_;
  std::vector<char> buf_;
  std::unique_ptr<asio::posix::stream_descriptor> fd_;
  std::vector<watch_root> roots_;
  std::unordered_map<int, watch_info> watches_;
  bool installing_ = false;
  std::unordered_map<std::string, int> by_path_;
  std::set<std::size_t> limited_;  // roots reported to limit_reached since the last watch()
  std::atomic<std::int64_t> count_{0};
};

}  // namespace

std::unique_ptr<watch_backend> make_inotify_backend(const backend_context& ctx, std::size_t watch_cap) {
  return std::make_unique<inotify_backend>(ctx, watch_cap);
}

}  // namespace projcache::platform
