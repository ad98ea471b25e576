// The HTTP request path without sockets: Beast's parser with the server's limits, our framing
// checks, admission, the router, query and body parsing, every handler, ETag/HEAD, on a small
// world. Oracles: no 500 (an unexpected exception), every JSON answer parses.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>
#include <boost/log/core.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "cache/demo_world.hpp"
#include "cache/service.hpp"
#include "events/bus.hpp"
#include "net/admission.hpp"
#include "net/app_context.hpp"
#include "net/handlers.hpp"
#include "net/pipeline.hpp"

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace fs = std::filesystem;
using namespace projcache;

namespace {
struct world {
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  events::bus bus{10000};
  std::unique_ptr<cache::service> svc;
  std::unique_ptr<net::app_context> app;
  std::vector<std::thread> threads;

  world() {
    boost::log::core::get()->set_logging_enabled(false);
    // A fixed place, so the seed corpus can name its projects (scripts/fuzz.sh runs one at a time).
    auto dir = fs::temp_directory_path() / "projcache-fuzz-http";
    fs::remove_all(dir);
    auto demo = cache::write_demo_world(dir);
    cache::settings s;
    s.home = demo.home;
    s.db_path = dir / "db" / "projcache.db";
    s.search_roots = {demo.search_root};
    s.retry_base_seconds = 0.01;
    svc = std::make_unique<cache::service>(ioc, s, bus);
    svc->open();
    net::options o;
    o.api_key = "fuzz-key";  // both sides of every key check are reachable
    app = std::make_unique<net::app_context>(*svc, bus, o);
    net::register_cache_routes(app->routes);
    net::register_misc_routes(app->routes);
    net::register_project_routes(app->routes);
    for (int i = 0; i < 2; ++i) threads.emplace_back([this] { ioc.run(); });
    svc->start({.watch = false, .marketplace = false, .housekeeping = false});
  }
};

world& the_world() {
  static world* w = new world;  // lives for the process: libFuzzer exits without unwinding
  return *w;
}

std::optional<net::request> parse(const std::uint8_t* data, std::size_t size, const net::options& o) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(o.header_limit));
  parser.body_limit(o.body_limit);
  parser.eager(true);
  boost::system::error_code ec;
  asio::const_buffer in(data, size);
  while (in.size() > 0 && !parser.is_done()) {
    auto used = parser.put(in, ec);
    if (ec == http::error::need_more) break;
    if (ec) return std::nullopt;
    if (used == 0) break;
    in += used;
  }
  if (!parser.is_done()) return std::nullopt;  // the server would wait for the rest (or time out)
  return parser.release();
}

void check(const net::response& res) {
  if (res.result() == http::status::internal_server_error) std::abort();
  auto type = res[http::field::content_type];
  if (type.starts_with("application/json") && !res.body().view().empty()) {
    boost::system::error_code ec;
    boost::json::parse(res.body().view(), ec);
    if (ec) std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  the_world();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& w = the_world();
  auto req = parse(data, size, w.app->opts);
  if (!req) return 0;
  if (auto refusal = net::refuse_framing(*req)) {
    check(*refusal);
    return 0;
  }
  if (boost::beast::websocket::is_upgrade(*req)) {
    std::string subprotocol;
    if (auto refusal = net::admit_upgrade(*req, w.app->opts, subprotocol)) check(*refusal);
    return 0;
  }
  auto fut = asio::co_spawn(w.ioc, net::dispatch(*req, *w.app), asio::use_future);
  auto res = fut.get();
  check(res);
  http::response_serializer<net::response::body_type> sr(res);  // the answer can be written
  return 0;
}
