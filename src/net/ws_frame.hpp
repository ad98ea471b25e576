#pragma once
// The header of a complete (FIN), unmasked text frame, as a server sends it (RFC 6455, 5.2).
// The session frames its own messages so that a batch of them goes out in one send; Beast still
// does the handshake, reading, control frames and the close handshake.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace projcache::net {

class text_frame_header {
 public:
  explicit text_frame_header(std::uint64_t payload_size) {
    bytes_[0] = static_cast<char>(0x81);  // FIN, opcode 1 (text)
    if (payload_size < 126) {
      bytes_[1] = static_cast<char>(payload_size);
      size_ = 2;
    } else if (payload_size <= 0xFFFF) {
      bytes_[1] = 126;
      put_be(payload_size, 2);
      size_ = 4;
    } else {
      bytes_[1] = 127;
      put_be(payload_size, 8);
      size_ = 10;
    }
  }
  std::string_view view() const { return {bytes_.data(), size_}; }

 private:
  void put_be(std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) bytes_[2 + i] = static_cast<char>((v >> (8 * (n - 1 - i))) & 0xFF);
  }
  std::array<char, 10> bytes_{};
  std::size_t size_ = 0;
};

}  // namespace projcache::net
