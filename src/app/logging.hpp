#pragma once
// Boost.Log to stderr, as text or as JSON lines, filtered by level.
#include <boost/json/object.hpp>
#include <string>

namespace projcache::app {

void setup_logging(const std::string& level, const std::string& format);

// One info record with fields of its own (the start banner): in text format `text` as it is
// (it may span lines); in JSON format one line {"ts", "level", "msg": msg, ...fields}.
void log_record(const std::string& msg, const std::string& text, boost::json::object fields);

}  // namespace projcache::app
