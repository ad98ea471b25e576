// The portable side of the seam: what macOS and the BSDs run. On Linux it builds as
// -DPROJCACHE_PORTABLE=ON and as the projcache-portable binary, so the whole suite runs it.
#include <sys/resource.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <sys/resource.h>  // setiopolicy_np, PRIO_DARWIN_THREAD
#endif

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <memory>

#include "platform/dir_listing.hpp"
#include "platform/platform.hpp"
#include "platform/watch_backend.hpp"

namespace projcache::platform {

std::string_view name() { return "portable"; }

void lower_thread_priority() {
  thread_local bool done = false;
  if (done) return;
  done = true;
#if defined(__APPLE__)
  // Darwin's per-thread background band lowers CPU and throttles disk I/O together; the I/O
  // policy is set as well for systems where the band leaves it alone. (Not yet built on a Mac.)
  ::setpriority(PRIO_DARWIN_THREAD, 0, PRIO_DARWIN_BG);
  ::setiopolicy_np(IOPOL_TYPE_DISK, IOPOL_SCOPE_THREAD, IOPOL_THROTTLE);
#else
  // POSIX has no per-thread nice: setpriority(PRIO_PROCESS, 0) would slow the HTTP threads
  // too. Scans keep normal priority here and are bounded by max_concurrent_refreshes.
#endif
}

void release_free_memory() {}  // only glibc keeps freed pages that a trim call returns
void limit_allocator_arenas() {}  // glibc's arenas; other allocators size themselves

namespace {
// getppid() every 250 ms. The timer holds itself through its handler; the loop ends with the
// io_context (its handler is destroyed unrun).
void check_parent(std::shared_ptr<boost::asio::steady_timer> t, int initial_parent) {
  t->expires_after(std::chrono::milliseconds(250));
  t->async_wait([t, initial_parent](boost::system::error_code ec) {
    if (ec) return;
    if (::getppid() != initial_parent) {
      std::raise(SIGTERM);
      return;
    }
    check_parent(t, initial_parent);
  });
}
}  // namespace

bool exit_with_parent(boost::asio::io_context& ioc, int initial_parent) {
  if (::getppid() != initial_parent) return false;
  check_parent(std::make_shared<boost::asio::steady_timer>(ioc), initial_parent);
  return true;
}

int list_directory(int dirfd, std::vector<dir_entry>& out) { return detail::list_with_readdir(dirfd, out); }

std::vector<std::string_view> watch_backends() { return {"poll"}; }

std::unique_ptr<watch_backend> make_native_backend(const backend_context&, std::size_t) { return nullptr; }

}  // namespace projcache::platform
