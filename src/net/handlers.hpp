#pragma once
// Route registration: the cache API (contract section 5) and the rest (health, SkillMeat's
// /projects/cache routes, the dashboard).
#include "net/router.hpp"

namespace projcache::net {

void register_cache_routes(router& r);
void register_misc_routes(router& r);

}  // namespace projcache::net
