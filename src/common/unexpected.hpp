#pragma once
// Background work whose failure must not take the server down (a connection's coroutine, a
// housekeeping pass): what escapes it is logged once, saying what was being done, and the
// server goes on. Expected failures are results, not exceptions; this is for the rest.
#include <exception>
#include <string_view>
#include <utility>

namespace projcache {

// Logs the exception in `ep` as "<what>: <its message>" at `warning`, or at `error` when
// unexpected is set (an exception that is not std::exception is named as such). Never throws.
void log_exception(std::string_view what, std::exception_ptr ep, bool unexpected = true) noexcept;

// Runs f(); what it throws is logged (as above) and reported as false.
template <class F>
bool run_guarded(std::string_view what, F&& f, bool unexpected = true) noexcept {
  try {
    std::forward<F>(f)();
    return true;
  } catch (...) {
    log_exception(what, std::current_exception(), unexpected);
    return false;
  }
}

// A co_spawn completion handler for detached work: logs what ended it, if anything did.
struct log_if_thrown {
  std::string_view what;
  void operator()(std::exception_ptr ep) const noexcept {
    if (ep) log_exception(what, ep);
  }
};

}  // namespace projcache
