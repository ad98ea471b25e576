#pragma once
// Awaiting a refresh from a coroutine without blocking its thread.
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <memory>
#include <optional>
#include <string>

#include "cache/refresh.hpp"

namespace projcache::net {

template <class Token>
auto async_refresh(cache::refresh_job& job, std::optional<std::string> project_id, bool force, Token&& token) {
  return boost::asio::async_initiate<Token, void(cache::refresh_result)>(
      [&job](auto handler, std::optional<std::string> id, bool f) {
        auto ex = boost::asio::get_associated_executor(handler);
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        auto done = [h, ex](cache::refresh_result r) {
          boost::asio::post(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
        };
        if (id)
          job.refresh_project(*id, f, std::move(done));
        else
          job.refresh_all(f, std::move(done));
      },
      token, std::move(project_id), force);
}

}  // namespace projcache::net
