#include "app/remote.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <iostream>
#include <optional>

#include "common/json_text.hpp"
#include "net/http_client.hpp"

namespace projcache::app {

int through_server(const config& cfg, const running_server& s, const std::string& path, const std::string& body,
                   std::chrono::seconds timeout, const show_reply& show) {
  net::http_call call;
  call.method = "POST";
  call.url = s.url + path;
  call.body = body;
  call.limits.timeout = timeout;
  if (cfg.net.api_key) call.headers.emplace_back("X-API-Key", *cfg.net.api_key);
  boost::asio::io_context ioc;
  std::optional<std::string> error;
  net::http_reply reply;
  net::http_request(ioc, std::move(call), [&](std::optional<std::string> e, net::http_reply r) {
    error = std::move(e);
    reply = std::move(r);
  });
  ioc.run();
  std::string who = "the server at " + s.url + " (pid " + std::to_string(s.pid) + ")";
  if (error) {
    std::cerr << "projcache: " << who << " holds the database but did not answer: " << *error
              << "; try again, or stop it and use --offline\n";
    return 1;
  }
  if (reply.status == 401) {
    std::cerr << "projcache: " << who << " wants an API key: set SKILLMEAT_API_KEY (or --api-key)\n";
    return 1;
  }
  std::cerr << "projcache: done through " << who << "\n";
  boost::system::error_code ec;
  auto v = boost::json::parse(reply.body, ec);
  return show(reply.status, ec ? boost::json::value(reply.body) : v);
}

std::string reply_detail(const boost::json::value& body) {
  if (auto* o = body.if_object())
    if (auto* d = o->if_contains("detail"); d && d->is_string()) return std::string(d->as_string());
  if (body.is_string()) return std::string(body.as_string());
  return to_json_text(body);
}

}  // namespace projcache::app
