#pragma once
#include <cstddef>
#include <memory>

#include "platform/watch_backend.hpp"

namespace projcache::platform {
std::unique_ptr<watch_backend> make_inotify_backend(const backend_context& ctx, std::size_t watch_cap);
}
