// Precompiled header of the cache layer: Asio's core and Boost.Log, which nearly every file of
// the refresh side includes (about 4 s per file in the sanitized build), parsed once.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/log/trivial.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
