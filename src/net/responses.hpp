#pragma once
// Building responses: JSON bodies, FastAPI-style errors, and the headers every answer carries.
#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "net/router.hpp"

namespace projcache::net {

response json_response(const request& req, http::status status, const boost::json::value& body);
response error_response(const request& req, http::status status, std::string_view detail);
response validation_response(const request& req, const boost::json::value& detail);
response text_response(const request& req, http::status status, std::string body, std::string_view content_type);
// A cached body, sent as it is (not copied).
response shared_response(const request& req, http::status status, std::shared_ptr<const std::string> body,
                         std::string_view content_type);

// The status line and header fields of `res` as they go on the wire; its body follows them as
// it is. http_session writes the two with one plain write: Beast's http::async_write would
// instantiate its serializer's composed operations, the costliest code to compile in net/, for
// the same bytes.
std::string wire_header(const response& res);

}  // namespace projcache::net
