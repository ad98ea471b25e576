// The rows kept at a clean stop (cache/snapshot_file): the first 12 bytes are the counts the
// header claims, the rest the payload, framed with a valid checksum so the decoder's structure
// checks are what gets driven. Oracles: no crash, no huge allocation (a claimed count beyond
// what the bytes hold must be refused before anything is reserved), and rows that decode
// encode again to rows that decode the same.
#include <cstdlib>
#include <cstring>
#include <string>

#include "cache/snapshot_file.hpp"

using namespace projcache::cache;

namespace {
std::size_t artifact_count(const stored_rows& r) {
  std::size_t n = 0;
  for (auto& [_, rows] : r.artifacts) n += rows.size();
  return n;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 12) return 0;
  std::uint32_t counts[3];
  std::memcpy(counts, data, sizeof counts);
  db_identity id{4096, 1, std::string(100, 's')};
  auto bytes = snapshot_framed(id, counts[0], counts[1], counts[2],
                               std::string_view(reinterpret_cast<const char*>(data + 12), size - 12));
  std::string why;
  auto rows = decode_snapshot(bytes, id, why);
  if (!rows) {
    if (why.empty()) std::abort();  // a refusal always says why
    return 0;
  }
  if (rows->projects.size() != counts[1] || artifact_count(*rows) != counts[2]) std::abort();
  auto again = decode_snapshot(encode_snapshot(id, *rows), id, why);
  if (!again || again->projects.size() != rows->projects.size() || artifact_count(*again) != artifact_count(*rows))
    std::abort();
  return 0;
}
