#pragma once
// Boost.Log to stderr, as text or as JSON lines, filtered by level.
#include <string>

namespace projcache::app {

void setup_logging(const std::string& level, const std::string& format);

}  // namespace projcache::app
