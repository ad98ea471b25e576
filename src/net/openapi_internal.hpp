#pragma once
// Schema builders shared by openapi.cpp (the operations) and openapi_schemas.cpp (the bodies).
#include <algorithm>
#include <boost/json.hpp>
#include <initializer_list>
#include <string_view>
#include <utility>
#include <vector>

namespace projcache::net::openapi {

using fields = std::vector<std::pair<std::string_view, boost::json::value>>;

boost::json::value type(const char* t);
boost::json::value nullable(const char* t);  // t or null
boost::json::value ref(std::string_view name);
boost::json::value list_of(boost::json::value item);
boost::json::value one_of_strings(std::initializer_list<const char*> values);
// An object with exactly these properties, all required but the ones named optional.
boost::json::value record(fields props, std::initializer_list<std::string_view> optional = {});

boost::json::object schemas();

}  // namespace projcache::net::openapi
