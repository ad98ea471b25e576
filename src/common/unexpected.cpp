#include "common/unexpected.hpp"

#include <boost/log/trivial.hpp>

namespace projcache {

void log_exception(std::string_view what, std::exception_ptr ep, bool unexpected) noexcept {
  try {
    std::string why = "an exception of unknown type";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      why = e.what();
    } catch (...) {
    }
    if (unexpected)
      BOOST_LOG_TRIVIAL(error) << what << ": " << why;
    else
      BOOST_LOG_TRIVIAL(warning) << what << ": " << why;
  } catch (...) {  // logging itself failed (out of memory): nothing better to do
  }
}

}  // namespace projcache
