#pragma once
// Awaiting the cache service from a coroutine without blocking its thread: the service calls
// back on its write strand, and the result is posted back to the coroutine's executor.
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cache/service.hpp"

namespace projcache::net {

// start(done) begins the job's work; done(Result) may run on any thread.
template <class Result, class Start, class Token>
auto async_job(Start start, Token&& token) {
  return boost::asio::async_initiate<Token, void(Result)>(
      [](auto handler, Start start) {
        auto ex = boost::asio::get_associated_executor(handler);
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        start([h, ex](Result r) { boost::asio::post(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); }); });
      },
      token, std::move(start));
}

// Each awaits the service call of the same name: co_await async_refresh(c.app.cache, ...).
template <class Token>
auto async_refresh(cache::service& svc, std::optional<std::string> project_id, bool force, Token&& token) {
  return async_job<cache::refresh_result>(
      [&svc, id = std::move(project_id), force](auto done) { svc.async_refresh(id, force, std::move(done)); },
      std::forward<Token>(token));
}

template <class Token>
auto async_invalidate(cache::service& svc, std::optional<std::string> project_id, Token&& token) {
  return async_job<std::int64_t>(
      [&svc, id = std::move(project_id)](auto done) { svc.async_invalidate(id, std::move(done)); },
      std::forward<Token>(token));
}

template <class Token>
auto async_register(cache::service& svc, std::filesystem::path path, Token&& token) {
  return async_job<cache::register_outcome>(
      [&svc, path = std::move(path)](auto done) { svc.async_register(path, std::move(done)); },
      std::forward<Token>(token));
}

template <class Token>
auto async_forget(cache::service& svc, std::string id, Token&& token) {
  return async_job<cache::forget_outcome>(
      [&svc, id = std::move(id)](auto done) { svc.async_forget(id, std::move(done)); }, std::forward<Token>(token));
}

template <class Token>
auto async_clear(cache::service& svc, Token&& token) {
  return async_job<std::optional<cache::refresh_result>>(
      [&svc](auto done) { svc.async_clear(true, std::move(done)); }, std::forward<Token>(token));
}

template <class Token>
auto async_compact(cache::service& svc, Token&& token) {
  return async_job<cache::compact_outcome>([&svc](auto done) { svc.async_compact(std::move(done)); },
                                           std::forward<Token>(token));
}

}  // namespace projcache::net
