#pragma once
// Route registration: the cache API (contract section 5) and the rest (health, SkillMeat's
// /projects/cache routes, the dashboard).
#include <optional>
#include <string>

#include "cache/refresh_types.hpp"
#include "net/router.hpp"

namespace projcache::net {

void register_cache_routes(router& r);
void register_misc_routes(router& r);
void register_project_routes(router& r);

struct app_context;
// A project id we do not know names a path (it is base64): when that folder holds a deployment,
// it is registered and refreshed. Nothing when it does not.
boost::asio::awaitable<std::optional<cache::register_outcome>> register_unknown_id(app_context& app,
                                                                                 const std::string& id);

}  // namespace projcache::net
