#pragma once
// GET /openapi.json: an OpenAPI 3.1 document of every route the router dispatches on, so tools
// that generate clients from OpenAPI (SkillMeat's web SDK) see ours. The paths come from the route
// table itself; what each body holds comes from one description per route here. A route added
// without a description is listed with "x-undocumented": true (and the test fails on it).
#include <boost/json/object.hpp>

namespace projcache::net {

class router;

boost::json::object openapi_document(const router& routes);

}  // namespace projcache::net
