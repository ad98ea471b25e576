#pragma once
// How the cache reaches the network: a GET that answers once with the body or, when it failed,
// one line saying why. The cache never opens a socket itself; app/ wires this to net's HTTP(S)
// client (net/http_client.hpp), and a command that fetches nothing passes none.
#include <functional>
#include <optional>
#include <string>

namespace projcache::cache {

using http_get_done = std::function<void(std::optional<std::string> error, std::string body)>;
using http_get_fn = std::function<void(std::string url, http_get_done done)>;

}  // namespace projcache::cache
