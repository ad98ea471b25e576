#pragma once
// Start-up work split in parts: part 0 on the calling thread, each other part on a thread of its
// own (a few, once per start: not worth a pool). Every part ends before this returns, so they
// may use the caller's locals; the first failure is then rethrown.
#include <algorithm>
#include <cstddef>
#include <exception>
#include <future>
#include <thread>
#include <vector>

namespace projcache {

// How many parts to split a start-up load into: the cores, at most `cap`.
inline std::size_t load_parts(std::size_t cap = 4) {
  return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, cap);
}

template <class F>
void run_in_parallel(std::size_t parts, F&& part) {
  std::vector<std::future<void>> others;
  others.reserve(parts > 0 ? parts - 1 : 0);
  std::exception_ptr failed;
  try {
    for (std::size_t i = 1; i < parts; ++i) others.push_back(std::async(std::launch::async, [&part, i] { part(i); }));
    if (parts > 0) part(std::size_t{0});
  } catch (...) {
    failed = std::current_exception();
  }
  for (auto& f : others) try {
      f.get();
    } catch (...) {
      if (!failed) failed = std::current_exception();
    }
  if (failed) std::rethrow_exception(failed);
}

}  // namespace projcache
