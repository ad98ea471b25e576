#pragma once
// Awaiting the refresh job from a coroutine without blocking its thread: the job calls back on
// its write strand, and the result is posted back to the coroutine's executor.
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cache/refresh.hpp"

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

template <class Token>
auto async_refresh(cache::refresh_job& job, std::optional<std::string> project_id, bool force, Token&& token) {
  return async_job<cache::refresh_result>(
      [&job, id = std::move(project_id), force](auto done) {
        if (id)
          job.refresh_project(*id, force, std::move(done));
        else
          job.refresh_all(force, std::move(done));
      },
      std::forward<Token>(token));
}

template <class Token>
auto async_register(cache::refresh_job& job, std::filesystem::path path, Token&& token) {
  return async_job<cache::register_outcome>(
      [&job, path = std::move(path)](auto done) { job.register_project(path, std::move(done)); },
      std::forward<Token>(token));
}

template <class Token>
auto async_forget(cache::refresh_job& job, std::string id, Token&& token) {
  return async_job<cache::forget_outcome>(
      [&job, id = std::move(id)](auto done) { job.forget_project(id, std::move(done)); }, std::forward<Token>(token));
}

template <class Token>
auto async_clear(cache::refresh_job& job, Token&& token) {
  return async_job<std::optional<cache::refresh_result>>([&job](auto done) { job.clear_and_rescan(std::move(done)); },
                                          std::forward<Token>(token));
}

}  // namespace projcache::net
