#include "cache/watcher.hpp"

#include <boost/asio/post.hpp>
#include <boost/log/trivial.hpp>

#include "cache/discovery.hpp"
#include "cache/read_model.hpp"
#include "cache/refresh.hpp"
#include "common/path_prefix.hpp"
#include "events/bus.hpp"

namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace projcache::cache {

namespace {
constexpr int unlimited_depth = 64;

std::string normal(const fs::path& p) {
  auto s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// The nearest existing ancestor of a root that does not exist yet, watched (that folder only)
// until the root appears.
std::optional<std::string> existing_ancestor(const fs::path& root) {
  std::error_code ec;
  for (fs::path dir = root.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (fs::is_directory(dir, ec)) return normal(dir);
    if (dir == dir.root_path()) break;
  }
  return std::nullopt;
}
}  // namespace

watcher::watcher(asio::io_context& ioc, const settings& cfg, const read_model& reads, refresh_job& job,
                 events::bus& bus)
    : cfg_(cfg),
      reads_(reads),
      job_(job),
      bus_(bus),
      strand_(asio::make_strand(ioc)),
      debounce_(strand_, std::chrono::milliseconds(cfg.debounce_ms), [this](const debounce_key& k) { fire(k); }),
      fallback_interval_(cfg.poll_interval_ms) {}

watcher::~watcher() {
  // First: a poll walk in progress asks the router (enter()) from its thread, so the backends
  // (whose destructors wait for it) go before the members they call into.
  fallback_.reset();
  backend_.reset();
}

platform::backend_context watcher::context() {
  platform::backend_context ctx{strand_, {}, {}, {}, {}};
  ctx.changed = [this](std::vector<platform::fs_change>&& b) { on_changes(std::move(b)); };
  ctx.overflow = [this] { on_overflow(); };
  ctx.limit_reached = [this](const std::string& root) { on_limit(root); };
  ctx.enter = [this](const platform::watch_root& r, const std::string& parent, std::string_view name) {
    auto rt = router();
    return !rt || rt->enter(r, parent, name);
  };
  return ctx;
}

std::unique_ptr<platform::watch_backend> watcher::make_backend(const std::string& which) {
  if (which == "poll") {
    platform::poll_options o;
    o.interval = std::chrono::milliseconds(cfg_.poll_interval_ms);
    return platform::make_poll_backend(context(), o);
  }
  return platform::make_native_backend(context(), watch_cap_);
}

bool watcher::start() {
  const std::string& want = cfg_.watcher;
  std::unique_ptr<platform::watch_backend> b;
  std::string name = want;
  if (want != "poll") {
    b = make_backend("native");
    if (b && !b->start()) b.reset();
    name = platform::watch_backends().front();
    if (!b && want != "auto") {
      BOOST_LOG_TRIVIAL(warning) << "the " << want << " watcher is unavailable here: changes are seen at the periodic refresh only";
      return false;
    }
  }
  if (!b) {
    name = "poll";
    b = make_backend("poll");
    b->start();
  }
  {
    std::lock_guard lk(mu_);
    backend_ = std::move(b);
    backend_name_ = name;
  }
  running_ = true;
  BOOST_LOG_TRIVIAL(info) << "watching for changes with the " << name << " watcher";
  asio::post(strand_, [this] { resync(); });
  return true;
}

void watcher::stop() {
  if (!running_.exchange(false)) return;
  asio::post(strand_, [this] {
    backend_->stop();
    if (fallback_) fallback_->stop();
    debounce_.stop();
  });
}

watcher_state watcher::state() const {
  watcher_state s;
  s.running = running_.load();
  std::lock_guard lk(mu_);
  s.fallback_roots = fallback_list_;
  if (!s.running) return s;
  s.backend = backend_name_;
  for (auto* b : {backend_.get(), fallback_.get()}) {
    if (!b) continue;
    auto f = b->figures();
    s.backends.push_back({std::string(f.backend), f.watches, f.entries, f.ticks, f.last_tick_ms, f.cpu_ms_total,
                          f.interval_ms});
  }
  if (!s.backends.empty()) s.watches = s.backends.front().watches;  // the primary's
  return s;
}

std::shared_ptr<const change_router> watcher::router() const {
  std::lock_guard lk(mu_);
  return router_;
}

std::pair<watch_world, std::vector<platform::watch_root>> watcher::plan() const {
  auto snap = reads_.current();
  const auto& cfg = cfg_;
  watch_world w;
  w.collections = normal(cfg.home / "collections");
  w.discovery_depth = cfg.discovery_depth;
  for (auto& [id, p] : snap->projects)
    for (auto& root : profile_roots_of(p->row.path)) w.profile_roots[normal(fs::path(p->row.path) / root)] = id;

  std::vector<platform::watch_root> roots;
  std::error_code ec;
  auto add = [&](const fs::path& dir, int depth) {
    if (fs::is_directory(dir, ec)) {
      roots.push_back({normal(dir), depth});
      return true;
    }
    w.missing_roots.push_back(normal(dir));
    if (auto a = existing_ancestor(dir)) roots.push_back({*a, 0});
    return false;
  };
  add(cfg.home / "collections", unlimited_depth);
  for (auto& [root_path, _] : w.profile_roots) roots.push_back({root_path, unlimited_depth});
  for (auto& root : cfg.search_roots)
    if (add(root, cfg.discovery_depth + 1)) w.search_roots.push_back(normal(root));
  return {std::move(w), std::move(roots)};
}

void watcher::resync() {
  if (!running_) return;
  if (!strand_.running_in_this_thread()) {
    asio::post(strand_, [this] { resync(); });
    return;
  }
  auto [world, roots] = plan();
  auto rt = std::make_shared<const change_router>(
      std::move(world), [this](const std::string& id, const std::string& root, const std::string& rel) {
        return relevant_for_project(id, root, rel);
      });
  {
    std::lock_guard lk(mu_);
    router_ = std::move(rt);
  }
  roots_ = std::move(roots);
  backend_->watch(roots_);
  if (fallback_) fallback_->watch(polled_roots());
}

std::vector<platform::watch_root> watcher::polled_roots() const {
  std::vector<platform::watch_root> polled;
  for (auto& r : roots_)
    if (fallback_roots_.count(r.path)) polled.push_back(r);
  return polled;
}

bool watcher::relevant_for_project(const std::string& id, const std::string& root_path, const std::string& rel) const {
  auto p = reads_.project(id);
  if (!p) return true;
  std::string root = fs::path(root_path).filename().string();
  for (auto& a : p->artifacts) {
    if (a->profile_root != root || !a->artifact_path) continue;
    const std::string& ap = *a->artifact_path;
    if (rel == ap || path_under(rel, ap) || path_under(ap, rel)) return true;
  }
  return false;
}

void watcher::on_changes(std::vector<platform::fs_change>&& batch) {
  if (!running_) return;
  auto rt = router();
  if (!rt) return;
  bool resync_after = false;
  for (auto& c : batch) {
    if (change_router::ignored(c.path)) continue;
    events_seen_.fetch_add(1, std::memory_order_relaxed);
    auto r = rt->route_change(c);
    resync_after |= r.resync;
    for (auto& k : r.keys) debounce_.touch(k);
  }
  if (resync_after) {
    BOOST_LOG_TRIVIAL(info) << "a watched root appeared: watching the folders below it";
    resync();
  }
}

void watcher::fire(const debounce_key& k) {
  if (!running_) return;
  switch (k.k) {
    case debounce_key::kind::rescan:
      job_.rescan();
      break;
    case debounce_key::kind::project:
      job_.project_changed(k.id);
      break;
    case debounce_key::kind::collection: {
      auto snap = reads_.current();  // held: a write on another thread may replace the current one
      for (auto& [id, p] : snap->projects)
        if (k.id.empty() || p->collections_used.count(k.id)) job_.project_changed(id);
      break;
    }
  }
}

void watcher::on_limit(const std::string& root) {
  if (!running_ || !fallback_roots_.insert(root).second) return;
  if (!fallback_) {
    platform::poll_options o;
    o.interval = fallback_interval_;
    auto b = platform::make_poll_backend(context(), o);
    b->start();
    std::lock_guard lk(mu_);
    fallback_ = std::move(b);
  }
  {
    std::lock_guard lk(mu_);
    fallback_list_.assign(fallback_roots_.begin(), fallback_roots_.end());
  }
  // Posted: the backend reporting the limit is in the middle of its own watch().
  asio::post(strand_, [this] {
    if (running_) fallback_->watch(polled_roots());
  });
}

void watcher::on_overflow() {
  BOOST_LOG_TRIVIAL(warning) << "the file watcher lost events (queue overflow): rescanning everything";
  bus_.publish(events::resync_required("inotify queue overflow", true));
  job_.refresh_all(true, nullptr);
  resync();
}

void watcher::inject_overflow() {
  asio::post(strand_, [this] { on_overflow(); });
}

void watcher::limit_watches(std::size_t watches, std::chrono::milliseconds poll_interval) {
  watch_cap_ = watches;
  fallback_interval_ = poll_interval;
}

}  // namespace projcache::cache
