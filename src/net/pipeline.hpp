#pragma once
// The request pipeline without a socket: admission (Host, CORS, API key), routing, the handler,
// then ETag/304, HEAD, CORS headers, metrics and the access log. http_session feeds it requests
// read from a connection; the HTTP fuzzer feeds it bytes.
#include <boost/asio/awaitable.hpp>

#include "net/router.hpp"

namespace projcache::net {

struct app_context;

boost::asio::awaitable<response> dispatch(const request& req, app_context& app);

}  // namespace projcache::net
