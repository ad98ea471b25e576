#pragma once
// The (path, verb) route table: an unknown path is 404, a known path with another verb is 405
// with Allow. A pattern segment "{id}" matches one path segment and is handed to the handler;
// at the end of a pattern it matches the rest of the path (project ids may contain '/').
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "net/shared_body.hpp"

namespace projcache::net {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<shared_body>;  // owned or shared (cached) text

struct app_context;

struct request_context {
  const request& req;
  std::string path;
  std::vector<std::pair<std::string, std::string>> params;  // decoded query, in order
  std::string path_param;
  app_context& app;
  std::string request_id;
};

class router {
 public:
  using handler = std::function<boost::asio::awaitable<response>(request_context&)>;
  void add(http::verb verb, std::string pattern, handler h);

  struct match {
    const handler* h = nullptr;
    std::string param;
    std::string_view pattern;  // the route matched, for metrics (the router's own copy)
    bool path_known = false;
    std::string allow;  // "GET, POST" when the path is known
  };
  match find(std::string_view path, http::verb verb) const;

  // Every (verb, pattern), in the order added: what /openapi.json documents.
  struct entry {
    http::verb verb;
    std::string_view pattern;
  };
  std::vector<entry> table() const;

 private:
  struct route {
    http::verb verb;
    std::string pattern;
    handler h;
  };
  static bool matches(std::string_view pattern, std::string_view path, std::string& param);
  std::vector<route> routes_;
};

}  // namespace projcache::net
