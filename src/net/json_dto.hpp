#pragma once
// The JSON shapes of contract section 5, as Boost.JSON conversions of the cache's views.
#include <boost/json/value.hpp>

#include "cache/queries.hpp"
#include "cache/refresh_types.hpp"

namespace projcache::net {

boost::json::value time_or_null(const std::optional<micros>& t);
boost::json::value opt_json(const std::optional<std::string>& s);
boost::json::value opt_json(const shared_text& s);
boost::json::value artifact_json(const db::artifact_row& a);
boost::json::value project_item_json(const cache::project_entry& p);
boost::json::value project_detail_json(const cache::project_entry& p);
boost::json::value stale_item_json(const cache::stale_item& s);
boost::json::value search_item_json(const cache::search_item& s);
boost::json::value marketplace_json(const db::marketplace_row& m);
boost::json::value refresh_result_json(const cache::refresh_result& r);

}  // namespace projcache::net
