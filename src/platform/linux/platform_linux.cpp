// The Linux side of the seam (platform.hpp, dir_listing.hpp, watch_backend.hpp).
#include <malloc.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include "platform/dir_listing.hpp"
#include "platform/linux/inotify_backend.hpp"
#include "platform/platform.hpp"
#include "platform/watch_backend.hpp"

namespace projcache::platform {

std::string_view name() { return "linux"; }

void lower_thread_priority() {
  thread_local bool done = false;
  if (done) return;
  done = true;
  // Linux's nice value is per thread (a tid is a process id to setpriority), and so is ioprio.
  auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  ::setpriority(PRIO_PROCESS, tid, 19);
  // The lowest best-effort level, not the idle class: an idle-class reader gets the disk only
  // when nobody else wants it, so a busy machine could hold back the check of what changed
  // while the server was down for as long as the load lasts.
  constexpr int ioprio_class_best_effort = 2, lowest_level = 7, ioprio_who_process = 1, ioprio_class_shift = 13;
  ::syscall(SYS_ioprio_set, ioprio_who_process, static_cast<int>(tid),
            (ioprio_class_best_effort << ioprio_class_shift) | lowest_level);
}

void release_free_memory() { ::malloc_trim(0); }

void limit_allocator_arenas() {
  // Two at least: the start-up load's parts allocate at once, one per core.
  ::mallopt(M_ARENA_MAX, static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
}

bool exit_with_parent(boost::asio::io_context&, int initial_parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  // The parent may have died between our start and the prctl: then nothing would signal us.
  return ::getppid() == initial_parent;
}

int list_directory(int dirfd, std::vector<dir_entry>& out) { return detail::list_with_getdents(dirfd, out); }

std::vector<std::string_view> watch_backends() { return {"inotify", "poll"}; }

std::unique_ptr<watch_backend> make_native_backend(const backend_context& ctx, std::size_t watch_cap) {
  return make_inotify_backend(ctx, watch_cap);
}

}  // namespace projcache::platform
