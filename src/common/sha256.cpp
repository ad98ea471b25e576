#include "common/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace projcache {

struct sha256::impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~impl() { EVP_MD_CTX_free(ctx); }
};

sha256::sha256() : impl_(std::make_unique<impl>()) {
  if (!impl_->ctx) throw std::runtime_error("EVP_MD_CTX_new failed");
  reset();
}
sha256::~sha256() = default;

void sha256::reset() {
  if (EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("EVP_DigestInit_ex failed");
}

void sha256::update(const void* data, std::size_t n) {
  if (n && EVP_DigestUpdate(impl_->ctx, data, n) != 1)
    throw std::runtime_error("EVP_DigestUpdate failed");
}

namespace {
constexpr char digits[] = "0123456789abcdef";
std::string hex_of(const unsigned char* p, std::size_t n) {
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  return out;
}
int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}
}  // namespace

std::string sha256::hex_digest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx, md, &len) != 1)
    throw std::runtime_error("EVP_DigestFinal_ex failed");
  return hex_of(md, len);
}

std::string to_hex(const sha256_bytes& b) { return hex_of(b.data(), b.size()); }

bool from_hex(std::string_view hex, sha256_bytes& out) {
  if (hex.size() != out.size() * 2) return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return true;
}

std::string sha256::of(std::string_view s) {
  sha256 h;
  h.update(s);
  return h.hex_digest();
}

}  // namespace projcache
