// The `version:` of a markdown file's YAML front matter. Oracle: a version found is text from
// the input, never longer than it.
#include <cstdlib>
#include <string_view>

#include "cache/front_matter.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = projcache::cache::front_matter_version(text);
  if (v && v->size() > text.size()) std::abort();
  return 0;
}
