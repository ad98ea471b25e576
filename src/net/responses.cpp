#include "net/responses.hpp"
#include "common/json_text.hpp"

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/json.hpp>

namespace projcache::net {

namespace {
response with_headers(const request& req, http::status status, std::string_view content_type) {
  response res{status, req.version()};
  res.set(http::field::server, "projcache");
  res.set(http::field::content_type, content_type);
  res.keep_alive(req.keep_alive());
  return res;
}
}  // namespace

response text_response(const request& req, http::status status, std::string body, std::string_view content_type) {
  auto res = with_headers(req, status, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

response shared_response(const request& req, http::status status, std::shared_ptr<const std::string> body,
                         std::string_view content_type) {
  auto res = with_headers(req, status, content_type);
  res.body().share(std::move(body));
  res.prepare_payload();
  return res;
}

response json_response(const request& req, http::status status, const boost::json::value& body) {
  return text_response(req, status, to_json_text(body), "application/json");
}

response error_response(const request& req, http::status status, std::string_view detail) {
  return json_response(req, status, boost::json::object{{"detail", detail}});
}

response validation_response(const request& req, const boost::json::value& detail) {
  return json_response(req, http::status::unprocessable_entity, boost::json::object{{"detail", detail}});
}

std::string wire_header(const response& res) {
  http::response_serializer<shared_body> sr(res);
  sr.split(true);
  std::string head;
  boost::system::error_code ec;
  while (!ec && !sr.is_header_done()) {
    sr.next(ec, [&](boost::system::error_code&, const auto& buffers) {
      for (auto b : boost::beast::buffers_range_ref(buffers)) head.append(static_cast<const char*>(b.data()), b.size());
      sr.consume(boost::beast::buffer_bytes(buffers));
    });
  }
  return head;
}

}  // namespace projcache::net
