#pragma once
// A maintenance command given a running server goes through its API: the server owns the
// database (it holds the lock), and it refreshes, clears and compacts it while it serves, with
// the events its clients expect. The server's URL is in the lock file (its ready line).
#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "app/config.hpp"
#include "app/server_registry.hpp"

namespace projcache::app {

// Prints what the server answered; returns the command's exit code.
using show_reply = std::function<int(unsigned status, const boost::json::value& body)>;

// POSTs a JSON body to the server's path and hands the answer to `show`. On stderr, which server
// did the work; when it does not answer or wants an API key, what to do instead.
int through_server(const config& cfg, const running_server& s, const std::string& path, const std::string& body,
                   std::chrono::seconds timeout, const show_reply& show);

// The detail of an error answer ({"detail": "..."}), or the body as text.
std::string reply_detail(const boost::json::value& body);

}  // namespace projcache::app
