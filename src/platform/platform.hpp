#pragma once
// The platform seam: every call that differs between Linux, macOS and the BSDs goes through
// here, and no other file includes an OS-specific header. Two implementations link in:
// linux/platform_linux.cpp and portable/platform_portable.cpp (what a Mac or a BSD build runs;
// on Linux it is the -DPROJCACHE_PORTABLE=ON build and the projcache-portable binary, so that
// code is tested here). POSIX calls every target has (open, fstatat, flock) stay where they are
// used; their platform differences (a stat's time fields) are in file_time.hpp.
#include <string_view>

namespace boost::asio {
class io_context;
}

namespace projcache::platform {

// "linux" or "portable": which implementation this binary carries.
std::string_view name();

// Background scanning must not slow the user's build: the calling thread gets the lowest CPU
// and I/O priority the system offers for one thread (once per thread; later calls are free).
void lower_thread_priority();

// Gives the allocator's free memory back to the system after a large load, where the
// allocator can (glibc); nothing elsewhere.
void release_free_memory();
// At most one allocator arena per core (glibc: M_ARENA_MAX; glibc's default is eight per
// core): the scan threads' short-lived buffers, each in an arena of its own, left holes
// among the rows a cold scan keeps (the RSS after it 1.18x a warm start's; 1.09x with this).
// Call before any thread starts; nothing elsewhere.
void limit_allocator_arenas();

// Once the process that started us exits, SIGTERM is raised in this process (the graceful stop
// path). Linux: the kernel signals (prctl's parent-death signal). Elsewhere: getppid() is checked every
// 250 ms on a timer in `ioc`, so we stop at most 250 ms late. `initial_parent` is the parent
// read at the very start; if it is already gone, this returns false and arms nothing.
bool exit_with_parent(boost::asio::io_context& ioc, int initial_parent);

}  // namespace projcache::platform
