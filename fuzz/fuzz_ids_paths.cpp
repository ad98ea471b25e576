// Project ids (strict base64 of a path) and the path safety check. Oracles: decoding then
// encoding gives the id back (only canonical base64 is accepted); encoding then decoding gives
// the bytes back; a path called safe is relative and has no ".." component.
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/base64.hpp"
#include "common/paths.hpp"

using namespace projcache;

namespace {
bool independently_safe(std::string_view p) {
  if (p.empty() || p.front() == '/' || p.find('\0') != std::string_view::npos) return false;
  std::size_t start = 0;
  while (start <= p.size()) {
    auto end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    if (p.substr(start, end - start) == "..") return false;
    start = end + 1;
  }
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto d = base64_decode(in); d && base64_encode(*d) != in) std::abort();
  // (The empty text is no id: decoding "" gives nothing, by design.)
  if (!in.empty() && base64_decode(base64_encode(in)) != std::string(in)) std::abort();
  if (auto p = path_of_project_id(in); p && (!p->is_absolute() || base64_encode(p->string()) != in)) std::abort();
  if (safe_relative_path(in) != independently_safe(in)) std::abort();
  return 0;
}
