#include "app/logging.hpp"

#include <boost/core/null_deleter.hpp>
#include <boost/json.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/trivial.hpp>
#include <boost/log/utility/formatting_ostream.hpp>
#include <boost/log/utility/manipulators/add_value.hpp>
#include <iostream>

#include "common/time_format.hpp"
#include "common/json_text.hpp"

namespace logging = boost::log;

namespace projcache::app {

namespace {
bool json_format = false;
}  // namespace

void setup_logging(const std::string& level, const std::string& format) {
  using sev = logging::trivial::severity_level;
  sev min = sev::info;
  if (level == "trace") min = sev::trace;
  else if (level == "debug") min = sev::debug;
  else if (level == "warning") min = sev::warning;
  else if (level == "error") min = sev::error;

  auto core = logging::core::get();
  core->remove_all_sinks();
  using backend_t = logging::sinks::text_ostream_backend;
  auto backend = boost::make_shared<backend_t>();
  backend->add_stream(boost::shared_ptr<std::ostream>(&std::clog, boost::null_deleter()));
  backend->auto_flush(true);
  auto sink = boost::make_shared<logging::sinks::synchronous_sink<backend_t>>(backend);
  bool json = json_format = format == "json";
  sink->set_formatter([json](const logging::record_view& rec, logging::formatting_ostream& out) {
    auto s = logging::extract<sev>("Severity", rec);
    auto msg = logging::extract<std::string>("Message", rec);
    if (auto raw = logging::extract<bool>("Raw", rec); raw && *raw) {  // log_record(): formatted already
      out << (msg ? *msg : std::string());
      return;
    }
    std::string level_name = s ? logging::trivial::to_string(*s) : "info";
    std::string text = msg ? *msg : std::string();
    if (json) {
      out << to_json_text(boost::json::object{
          {"ts", format_api_time(now_micros())}, {"level", level_name}, {"msg", text}});
    } else {
      out << format_api_time(now_micros()) << " [" << level_name << "] " << text;
    }
  });
  core->add_sink(sink);
  core->set_filter(logging::trivial::severity >= min);
}

void log_record(const std::string& msg, const std::string& text, boost::json::object fields) {
  std::string line = text;
  if (json_format) {
    boost::json::object o{{"ts", format_api_time(now_micros())}, {"level", "info"}, {"msg", msg}};
    for (auto& [k, v] : fields) o[k] = std::move(v);
    line = to_json_text(o);
  }
  BOOST_LOG_TRIVIAL(info) << logging::add_value("Raw", true) << line;
}

}  // namespace projcache::app
