#pragma once
// A Beast response body that owns its text or shares an immutable one: a cached body (a page
// of 36 KB, say) goes out to every request without being copied and reallocated per request.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace projcache::net {

struct shared_body {
  class value_type {
   public:
    value_type& operator=(std::string text) {
      own_ = std::move(text);
      shared_.reset();
      return *this;
    }
    void share(std::shared_ptr<const std::string> text) {
      shared_ = std::move(text);
      own_.clear();
    }
    std::string_view view() const { return shared_ ? std::string_view(*shared_) : std::string_view(own_); }
    std::size_t size() const { return view().size(); }
    void clear() {
      shared_.reset();
      own_.clear();
    }

   private:
    std::shared_ptr<const std::string> shared_;
    std::string own_;
  };

  static std::uint64_t size(const value_type& v) { return v.size(); }

  // What the serializer reads: the whole text as one buffer.
  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;
    template <bool is_request, class Fields>
    writer(const boost::beast::http::header<is_request, Fields>&, const value_type& body) : body_(body) {}
    void init(boost::system::error_code& ec) { ec = {}; }
    boost::optional<std::pair<const_buffers_type, bool>> get(boost::system::error_code& ec) {
      ec = {};
      auto v = body_.view();
      return std::pair<const_buffers_type, bool>(const_buffers_type(v.data(), v.size()), false);
    }

   private:
    const value_type& body_;
  };
};

}  // namespace projcache::net
