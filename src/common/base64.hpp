#pragma once
// Standard base64 (RFC 4648, with padding): project ids and WebSocket keys.
#include <optional>
#include <string>
#include <string_view>

namespace projcache {

std::string base64_encode(std::string_view in);
// Strict: padding required and the bits padding drops zero, so each byte string has one
// spelling. Nothing when the text is not that.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace projcache
