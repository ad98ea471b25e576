// SkillMeat's TOML files, each reader: collection.toml, collection.lock, the deployment file and
// the project file. The first byte picks the reader; the rest is the file. Oracle: a failure is a
// read_error that names the file and says what is wrong.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "cache/toml_readers.hpp"

namespace fs = std::filesystem;
using namespace projcache::cache;

namespace {
template <class R>
void check(const R& r, const fs::path& file) {
  if (r) return;
  if (r.error().file != file.string() || r.error().message.empty() || r.error().text().empty()) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const fs::path file = fs::temp_directory_path() / ("projcache-fuzz-toml-" + std::to_string(::getpid()));
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  switch (data[0] % 4) {
    case 0: check(read_collection(file), file); break;
    case 1: check(read_lock(file), file); break;
    case 2: check(read_deployed(file), file); break;
    default: check(read_project_file(file), file); break;
  }
  return 0;
}
