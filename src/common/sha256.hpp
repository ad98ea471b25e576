#pragma once
// Streaming SHA-256 over OpenSSL's EVP API, lowercase hex out.
#include <array>
#include <memory>
#include <string>
#include <string_view>

namespace projcache {

class sha256 {
 public:
  sha256();
  ~sha256();
  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;
  void update(const void* data, std::size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex_digest();  // finalizes; the object can be reset() and reused

  void reset();
  static std::string of(std::string_view s);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// A digest in binary: what a cache keeps in memory, 32 bytes instead of a 64-character string.
using sha256_bytes = std::array<unsigned char, 32>;
std::string to_hex(const sha256_bytes& b);
// False unless `hex` is exactly 64 lowercase hex digits (what hex_digest writes).
bool from_hex(std::string_view hex, sha256_bytes& out);

}  // namespace projcache
