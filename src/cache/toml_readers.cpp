#include "cache/toml_readers.hpp"
#include "common/json_text.hpp"

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <toml++/toml.h>

namespace fs = std::filesystem;

namespace boost::system {
void throw_exception_from_error(const projcache::cache::read_error& e, const boost::source_location&) {
  throw std::runtime_error(e.text());
}
}  // namespace boost::system

namespace projcache::cache {

std::string read_error::text() const {
  return line > 0 ? file + ":" + std::to_string(line) + ": " + message : file + ": " + message;
}

bool valid_artifact_type(const std::string& t) {
  if (t.empty() || t.size() > 64) return false;
  for (char ch : t)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
      return false;
  return true;
}

namespace {

// Thrown inside a reader, turned into its read_error at the reader's edge.
struct bad_content {
  int line;
  std::string message;
};

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

std::optional<std::string> opt_string(const toml::table& t, std::string_view key) {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  if (auto s = n->value_exact<std::string>()) return *s;
  throw bad_content{line_of(*n), "'" + std::string(key) + "' must be a string"};
}

std::string req_string(const toml::table& t, std::string_view key, int line) {
  auto v = opt_string(t, key);
  if (!v) throw bad_content{line, "missing required key '" + std::string(key) + "'"};
  return *v;
}

std::vector<std::string> string_list(const toml::table& t, std::string_view key) {
  std::vector<std::string> out;
  const toml::node* n = t.get(key);
  if (!n) return out;
  if (auto s = n->value_exact<std::string>()) {  // a lone string is a list of one
    out.push_back(*s);
    return out;
  }
  const toml::array* a = n->as_array();
  if (!a) throw bad_content{line_of(*n), "'" + std::string(key) + "' must be an array of strings"};
  for (auto& el : *a) {
    auto s = el.value_exact<std::string>();
    if (!s) throw bad_content{line_of(el), "'" + std::string(key) + "' must hold strings"};
    out.push_back(*s);
  }
  return out;
}

// [artifacts.metadata] comes from YAML front matter, where `version: 1.0` is a number: its
// values are read leniently (numbers as text, anything else skipped), never failing the file.
std::optional<std::string> lenient_text(const toml::table& t, std::string_view key) {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  if (auto s = n->value_exact<std::string>()) return *s;
  if (auto i = n->value_exact<int64_t>()) return std::to_string(*i);
  if (auto d = n->value_exact<double>()) {
    std::ostringstream os;
    os << *d;
    std::string text = os.str();
    if (text.find_first_of(".eE") == std::string::npos) text += ".0";  // Python's str(1.0)
    return text;
  }
  return std::nullopt;
}

std::vector<std::string> lenient_list(const toml::table& t, std::string_view key) {
  std::vector<std::string> out;
  const toml::node* n = t.get(key);
  if (!n) return out;
  if (auto s = n->value_exact<std::string>()) return {*s};
  if (auto* a = n->as_array())
    for (auto& el : *a)
      if (auto s = el.value_exact<std::string>()) out.push_back(*s);
  return out;
}

const toml::table* opt_table(const toml::table& t, std::string_view key) {
  const toml::node* n = t.get(key);
  if (!n) return nullptr;
  if (auto* tt = n->as_table()) return tt;
  throw bad_content{line_of(*n), "'" + std::string(key) + "' must be a table"};
}

boost::json::value to_json(const toml::node& n) {
  if (auto* t = n.as_table()) {
    boost::json::object o;
    for (auto& [k, v] : *t) o[std::string(k.str())] = to_json(v);
    return o;
  }
  if (auto* a = n.as_array()) {
    boost::json::array arr;
    for (auto& el : *a) arr.push_back(to_json(el));
    return arr;
  }
  if (auto s = n.value_exact<std::string>()) return boost::json::value(*s);
  if (auto b = n.value_exact<bool>()) return boost::json::value(*b);
  if (auto i = n.value_exact<int64_t>()) return boost::json::value(*i);
  if (auto d = n.value_exact<double>()) return boost::json::value(*d);
  std::ostringstream os;  // dates and times: their TOML text
  n.visit([&](auto&& v) { os << v; });
  return boost::json::value(os.str());
}

// Reads and parses a file; I/O errors are retryable, syntax errors are not.
read_result<toml::table> parse_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    bool exists = fs::exists(file);
    return read_error{file.string(), 0, exists ? "cannot read file" : "file not found", exists};
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return read_error{file.string(), 0, "cannot read file", true};
  try {
    return toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    return read_error{file.string(), static_cast<int>(e.source().begin.line),
                      std::string(e.description()), false};
  }
}

template <class T, class F>
read_result<T> read_with(const fs::path& file, F&& body) {
  auto tbl = parse_file(file);
  if (!tbl) return tbl.error();
  try {
    return body(*tbl);
  } catch (const bad_content& b) {
    return read_error{file.string(), b.line, b.message, false};
  }
}

}  // namespace

read_result<collection_file> read_collection(const fs::path& file) {
  return read_with<collection_file>(file, [&](const toml::table& root) {
    collection_file c;
    if (auto* col = opt_table(root, "collection")) {
      c.name = opt_string(*col, "name").value_or("");
      c.version = opt_string(*col, "version");
    }
    if (const toml::node* arts = root.get("artifacts")) {
      const toml::array* a = arts->as_array();
      if (!a) throw bad_content{line_of(*arts), "'artifacts' must be an array of tables"};
      for (auto& el : *a) {
        const toml::table* t = el.as_table();
        if (!t) throw bad_content{line_of(el), "'artifacts' must hold tables"};
        int line = line_of(el);
        collection_artifact art;
        art.name = req_string(*t, "name", line);
        art.type = req_string(*t, "type", line);
        art.path = opt_string(*t, "path").value_or("");
        art.origin = opt_string(*t, "origin");
        art.upstream = opt_string(*t, "upstream");
        art.version_spec = opt_string(*t, "version_spec");
        art.resolved_sha = opt_string(*t, "resolved_sha");
        art.resolved_version = opt_string(*t, "resolved_version");
        art.tags = string_list(*t, "tags");
        if (auto* md = opt_table(*t, "metadata")) {
          art.metadata_json = to_json_text(to_json(*md));
          art.metadata_version = lenient_text(*md, "version");
          art.metadata_description = lenient_text(*md, "description");
          art.metadata_tags = lenient_list(*md, "tags");
          art.metadata_aliases = lenient_list(*md, "aliases");
        }
        c.artifacts.push_back(std::move(art));
      }
    }
    return c;
  });
}

read_result<lock_file> read_lock(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return lock_file{};
  return read_with<lock_file>(file, [&](const toml::table& root) {
    lock_file out;
    auto* lock = opt_table(root, "lock");
    if (!lock) return out;
    auto* entries = opt_table(*lock, "entries");
    if (!entries) return out;
    for (auto& [key, node] : *entries) {
      const toml::table* t = node.as_table();
      if (!t) throw bad_content{line_of(node), "lock entry '" + std::string(key.str()) + "' must be a table"};
      lock_entry e;
      e.content_hash = opt_string(*t, "content_hash");
      e.fetched = opt_string(*t, "fetched");
      e.upstream = opt_string(*t, "upstream");
      e.resolved_sha = opt_string(*t, "resolved_sha");
      e.resolved_version = opt_string(*t, "resolved_version");
      out.emplace(std::string(key.str()), std::move(e));
    }
    return out;
  });
}

read_result<std::vector<deployed_entry>> read_deployed(const fs::path& file) {
  return read_with<std::vector<deployed_entry>>(file, [&](const toml::table& root) {
    std::vector<deployed_entry> out;
    const toml::node* dep = root.get("deployed");
    if (!dep) return out;
    const toml::array* a = dep->as_array();
    if (!a) throw bad_content{line_of(*dep), "'deployed' must be an array of tables"};
    for (auto& el : *a) {
      const toml::table* t = el.as_table();
      if (!t) throw bad_content{line_of(el), "'deployed' must hold tables"};
      deployed_entry e;
      e.line = line_of(el);
      e.artifact_name = req_string(*t, "artifact_name", e.line);
      e.artifact_type = req_string(*t, "artifact_type", e.line);
      if (e.artifact_name->empty()) throw bad_content{e.line, "'artifact_name' is empty"};
      if (!valid_artifact_type(*e.artifact_type))
        throw bad_content{e.line, "unknown artifact type '" + *e.artifact_type + "'"};
      e.from_collection = opt_string(*t, "from_collection");
      e.deployed_at = opt_string(*t, "deployed_at");
      e.artifact_path = opt_string(*t, "artifact_path");
      e.content_hash = opt_string(*t, "content_hash");
      e.collection_sha = opt_string(*t, "collection_sha");
      if (const toml::node* lm = t->get("local_modifications")) {
        auto b = lm->value_exact<bool>();
        if (!b) throw bad_content{line_of(*lm), "'local_modifications' must be a boolean"};
        e.local_modifications = *b;
      }
      out.push_back(std::move(e));
    }
    return out;
  });
}

read_result<project_file> read_project_file(const fs::path& file) {
  return read_with<project_file>(file, [&](const toml::table& root) {
    project_file p;
    if (auto* t = opt_table(root, "project")) {
      p.name = opt_string(*t, "name");
      p.description = opt_string(*t, "description");
      p.path = opt_string(*t, "path");
      p.created_at = opt_string(*t, "created_at");
    }
    return p;
  });
}

}  // namespace projcache::cache
