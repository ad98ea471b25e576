#pragma once
// Readers of SkillMeat's TOML files (contract 1.2-1.5). Unknown keys are ignored; a malformed
// file or a wrong type for a known key is a read_error naming the file and line.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/system/result.hpp>

#include "common/shared_text.hpp"

namespace projcache::cache {

struct read_error {
  std::string file;
  int line = 0;  // 0 when not known
  std::string message;
  bool retryable = false;  // an I/O error that may pass, not bad content
  std::string text() const;
};

template <class T>
using read_result = boost::system::result<T, read_error>;

struct collection_artifact {
  std::string name, type, path;
  std::optional<std::string> origin, upstream, version_spec, resolved_sha, resolved_version;
  std::vector<std::string> tags;
  // [artifacts.metadata]
  std::optional<std::string> metadata_json, metadata_version, metadata_description;
  std::vector<std::string> metadata_tags, metadata_aliases;
};

struct collection_file {
  std::string name;
  std::optional<std::string> version;
  std::vector<collection_artifact> artifacts;
};

struct lock_entry {
  std::optional<std::string> content_hash, fetched, upstream, resolved_sha, resolved_version;
};
using lock_file = std::map<std::string, lock_entry>;  // "<name>::<type>"

// Kept parsed for every deployed file (deployed_cache): interned texts, since the same names,
// collections and hashes recur in every project (a sixth of the size of plain strings).
struct deployed_entry {
  shared_text artifact_name, artifact_type;  // never null
  shared_text from_collection, deployed_at, artifact_path;
  shared_text content_hash, collection_sha;
  bool local_modifications = false;
  int line = 0;
};

struct project_file {
  std::optional<std::string> name, description, path, created_at;
};

read_result<collection_file> read_collection(const std::filesystem::path& file);
// A missing lock file reads as empty.
read_result<lock_file> read_lock(const std::filesystem::path& file);
read_result<std::vector<deployed_entry>> read_deployed(const std::filesystem::path& file);
read_result<project_file> read_project_file(const std::filesystem::path& file);

// artifact types are open (SkillMeat keeps adding them); a type that is empty or not a lowercase
// token is bad input.
bool valid_artifact_type(const std::string& t);

}  // namespace projcache::cache

namespace boost::system {
[[noreturn]] void throw_exception_from_error(const projcache::cache::read_error& e,
                                             const boost::source_location& loc);
}
