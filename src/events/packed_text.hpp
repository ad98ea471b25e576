#pragma once
// A text kept deflated: the replay ring's large events. A cold scan publishes thousands of
// events listing artifact ids, and every id of a project starts with that project's id, so
// they deflate to a fraction; a replay inflates each one as the client reads it.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace projcache::events {

class packed_text {
 public:
  // The deflater's buffers (about 400 KB) are made once and reused: one per publisher.
  class packer {
   public:
    packer();
    ~packer();
    packer(const packer&) = delete;
    packer& operator=(const packer&) = delete;
    // Nothing when deflating would not save at least a quarter.
    std::optional<packed_text> pack(std::string_view text);

   private:
    struct impl;
    std::unique_ptr<impl> impl_;
  };

  std::string unpack() const;
  std::size_t packed_bytes() const { return data_.size(); }
  std::size_t size() const { return size_; }

 private:
  packed_text(std::string data, std::size_t size) : data_(std::move(data)), size_(size) {}
  std::string data_;
  std::size_t size_ = 0;
};

}  // namespace projcache::events
