#include "cache/snapshot_format.hpp"

#include <cstring>
#include <iterator>
#include <limits>
#include <unordered_set>

#include "common/parallel.hpp"

namespace projcache::cache {

namespace {
// Layout (all numbers in this machine's byte order, which the header names):
//   header   magic, version, byte-order mark, the database's identity, the counts, the
//            payload's size and checksum
//   texts    u32 length + bytes, each distinct text once (ids, names, hashes, ...)
//   projects per project: 6 text refs (id, name, path, description, status, error message),
//            created_at, updated_at, has_last_fetched, last_fetched
//   rows     a group count, then per project with rows: its index, its row count, and that
//            many fixed 96-byte records
// A text ref is a u32 index; `no_text` is null.
constexpr char magic[8] = {'P', 'C', 'S', 'N', 'A', 'P', '\r', '\n'};
constexpr std::uint32_t version = 1;
constexpr std::uint32_t byte_order_mark = 0x01020304;
constexpr std::uint32_t no_text = std::numeric_limits<std::uint32_t>::max();

// The row's texts, in file order (the order artifact_row declares them, which the reader's
// designated initializers follow); the id comes before them in each record, the flags and
// times after.
using text_member = shared_text db::artifact_row::*;
constexpr text_member text_fields[] = {
    &db::artifact_row::project_id,      &db::artifact_row::name,          &db::artifact_row::type,
    &db::artifact_row::source,          &db::artifact_row::deployed_version, &db::artifact_row::upstream_version,
    &db::artifact_row::profile_root,    &db::artifact_row::from_collection, &db::artifact_row::artifact_path,
    &db::artifact_row::deployed_hash,   &db::artifact_row::local_hash,    &db::artifact_row::collection_hash,
    &db::artifact_row::drift,           &db::artifact_row::deployed_at,   &db::artifact_row::description,
    &db::artifact_row::tags,            &db::artifact_row::aliases,       &db::artifact_row::metadata_json};
constexpr std::size_t text_field_count = std::size(text_fields);
// A field added to artifact_row must be added above (and the version raised).
static_assert(sizeof(db::artifact_row) ==
                  sizeof(std::string) + text_field_count * sizeof(shared_text) + 8 + 2 * sizeof(micros),
              "artifact_row changed: keep snapshot_file.cpp's record in step");
constexpr std::size_t record_bytes = 4 * (1 + text_field_count) + 4 + 2 * 8;
constexpr std::size_t project_bytes = 6 * 4 + 4 * 8;

struct header {
  char magic[8];
  std::uint32_t version, byte_order;
  std::uint64_t db_size;
  std::int64_t db_mtime_ns;
  char db_header[sqlite_header_bytes];
  std::uint32_t texts, projects, artifacts, reserved;
  std::uint64_t payload_bytes, checksum;
};

// Not a cryptographic hash: it tells a torn or damaged file, 8 bytes a step. (common/fnv.hpp's
// FNV-1a takes a byte a step: eight times the dependent multiplies over a 9 MB file, on the way
// to the ready line.)
std::uint64_t checksum_of(std::string_view bytes) {
  std::uint64_t h = 0x9e3779b97f4a7c15ull;
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  for (; i < bytes.size(); ++i) h = (h ^ static_cast<unsigned char>(bytes[i])) * 0x100000001b3ull;
  return h;
}

// ---- writing
class writer {
 public:
  std::uint32_t text(std::string_view s) {
    auto [it, added] = index_.try_emplace(s, static_cast<std::uint32_t>(index_.size()));
    if (added) order_.push_back(s);
    return it->second;
  }
  std::uint32_t text(const std::string& s) { return text(std::string_view(s)); }
  std::uint32_t text(const std::optional<std::string>& s) { return s ? text(std::string_view(*s)) : no_text; }
  std::uint32_t text(const shared_text& s) { return s ? text(std::string_view(*s)) : no_text; }
  std::string texts() const {
    std::string out;
    for (auto s : order_) {
      put(out, static_cast<std::uint32_t>(s.size()));
      out.append(s);
    }
    return out;
  }
  std::uint32_t count() const { return static_cast<std::uint32_t>(order_.size()); }
  template <class T>
  static void put(std::string& out, T v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
  }

 private:
  std::unordered_map<std::string_view, std::uint32_t> index_;  // views into the rows, alive meanwhile
  std::vector<std::string_view> order_;
};

void put_project(writer& w, std::string& out, const db::project_row& p) {
  for (auto ref : {w.text(p.id), w.text(p.name), w.text(p.path), w.text(p.description), w.text(p.status),
                   w.text(p.error_message)})
    writer::put(out, ref);
  writer::put(out, p.created_at);
  writer::put(out, p.updated_at);
  writer::put(out, static_cast<std::uint64_t>(p.last_fetched.has_value()));
  writer::put(out, p.last_fetched.value_or(0));
}

void put_row(writer& w, std::string& out, const db::artifact_row& a) {
  writer::put(out, w.text(a.id));
  for (auto f : text_fields) writer::put(out, w.text(a.*f));
  writer::put(out, static_cast<std::uint32_t>(a.is_outdated) | (static_cast<std::uint32_t>(a.local_modified) << 1));
  writer::put(out, a.created_at);
  writer::put(out, a.updated_at);
}

// ---- reading: every read is bounds-checked, and a failure names what was wrong
class reader {
 public:
  explicit reader(std::string_view b) : b_(b) {}
  template <class T>
  bool get(T& v) {
    if (b_.size() - at_ < sizeof v) return false;
    std::memcpy(&v, b_.data() + at_, sizeof v);
    at_ += sizeof v;
    return true;
  }
  bool bytes(std::size_t n, std::string_view& out) {
    if (b_.size() - at_ < n) return false;
    out = b_.substr(at_, n);
    at_ += n;
    return true;
  }
  bool done() const { return at_ == b_.size(); }
  std::string_view rest() const { return b_.substr(at_); }

 private:
  std::string_view b_;
  std::size_t at_ = 0;
};

struct decoder {
  std::vector<std::string_view> texts;
  std::vector<shared_text> shared;  // interned on first use by a row's text field
  std::string why;

  bool fail(std::string what) {
    why = std::move(what);
    return false;
  }
  bool ref_ok(std::uint32_t ref) const { return ref == no_text || ref < texts.size(); }
  std::optional<std::string> optional_text(std::uint32_t ref) const {
    return ref == no_text ? std::nullopt : std::optional<std::string>(texts[ref]);
  }

  // The counts come from the file: each is held to what its bytes can hold before anything is
  // reserved for it.
  bool read_texts(reader& r, std::uint32_t n) {
    if (n > r.rest().size() / 4) return fail("it counts more texts than it holds");
    texts.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      std::uint32_t len;
      std::string_view s;
      if (!r.get(len) || !r.bytes(len, s)) return fail("a text runs past the end");
      texts.push_back(s);
    }
    return true;
  }

  bool read_projects(reader& r, std::uint32_t n, std::vector<db::project_row>& out) {
    if (n > r.rest().size() / project_bytes) return fail("it counts more projects than it holds");
    out.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      std::uint32_t ref[6];
      db::project_row p;
      std::uint64_t has_fetched;
      micros fetched;
      for (auto& x : ref)
        if (!r.get(x) || !ref_ok(x)) return fail("a project names a text that is not there");
      if (!r.get(p.created_at) || !r.get(p.updated_at) || !r.get(has_fetched) || !r.get(fetched))
        return fail("a project runs past the end");
      if (ref[0] == no_text || ref[1] == no_text || ref[2] == no_text || ref[4] == no_text)
        return fail("a project lacks its id, name, path or status");
      p.id = texts[ref[0]];
      p.name = texts[ref[1]];
      p.path = texts[ref[2]];
      p.description = optional_text(ref[3]);
      p.status = texts[ref[4]];
      p.error_message = optional_text(ref[5]);
      if (has_fetched) p.last_fetched = fetched;
      out.push_back(std::move(p));
    }
    std::unordered_set<std::string_view> ids;
    for (auto& p : out)
      if (!ids.insert(p.id).second) return fail("two projects have one id");
    return true;
  }

  // First pass over the rows: every reference checked, and the uses of each text counted so
  // its references can be taken in one step.
  bool check_rows(std::string_view rows, std::uint32_t projects, std::uint32_t artifacts, std::vector<std::size_t>& uses) {
    reader r(rows);
    uses.assign(texts.size(), 0);
    std::uint32_t groups;
    std::uint64_t seen = 0;
    if (!r.get(groups) || groups > projects) return fail("the rows name more projects than there are");
    std::vector<bool> named(projects);
    for (std::uint32_t g = 0; g < groups; ++g) {
      std::uint32_t project, count;
      std::string_view records;
      if (!r.get(project) || !r.get(count) || project >= projects) return fail("a group of rows names no project");
      if (named[project]) return fail("two groups of rows name one project");
      named[project] = true;
      if (!r.bytes(std::size_t{count} * record_bytes, records)) return fail("rows run past the end");
      for (std::size_t at = 0; at < records.size(); at += record_bytes) {
        std::uint32_t ref[1 + text_field_count];
        std::memcpy(ref, records.data() + at, sizeof ref);
        if (ref[0] >= texts.size()) return fail("a row's id is not there");
        for (std::size_t f = 1; f <= text_field_count; ++f) {
          if (!ref_ok(ref[f])) return fail("a row names a text that is not there");
          if (ref[f] != no_text) ++uses[ref[f]];
        }
      }
      seen += count;
    }
    if (seen != artifacts || !r.done()) return fail("the rows do not add up to the count in the header");
    return true;
  }

  // Second pass, in parts on as many threads (each allocates its rows in an arena of its own):
  // the rows' texts are the references reserved above, taken without touching their counts.
  void build_rows(std::string_view rows, const std::vector<db::project_row>& projects, const std::vector<std::size_t>& uses,
                  std::unordered_map<std::string, std::vector<artifact_ptr>>& out) {
    shared.resize(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i)
      if (uses[i]) {
        shared[i] = shared_text(texts[i]);
        shared[i].reserve(uses[i]);
      }
    std::vector<std::string_view> groups = groups_of(rows);
    std::size_t parts = groups.size() < 64 ? 1 : load_parts();
    std::vector<std::vector<artifact_ptr>> got(groups.size());
    run_in_parallel(parts, [&](std::size_t part) {
      for (std::size_t g = part; g < groups.size(); g += parts) got[g] = build_group(groups[g]);
    });
    out.reserve(projects.size());
    for (std::size_t g = 0; g < groups.size(); ++g) {
      std::uint32_t project;
      std::memcpy(&project, groups[g].data(), sizeof project);
      out[projects[project].id] = std::move(got[g]);
    }
  }

  // Each group's bytes: its project index, its count, its records (checked by check_rows).
  static std::vector<std::string_view> groups_of(std::string_view rows) {
    reader r(rows);
    std::uint32_t groups = 0;
    r.get(groups);
    std::vector<std::string_view> out;
    out.reserve(groups);
    auto rest = r.rest();
    for (std::uint32_t g = 0; g < groups; ++g) {
      std::uint32_t count;
      std::memcpy(&count, rest.data() + 4, sizeof count);
      std::size_t n = 8 + std::size_t{count} * record_bytes;
      out.push_back(rest.substr(0, n));
      rest.remove_prefix(n);
    }
    return out;
  }

  std::vector<artifact_ptr> build_group(std::string_view group) const {
    auto field = [&](std::uint32_t ref) { return ref == no_text ? shared_text() : shared[ref].take_reserved(); };
    std::vector<artifact_ptr> rows;
    rows.reserve((group.size() - 8) / record_bytes);
    for (std::size_t at = 8; at < group.size(); at += record_bytes) {
      std::uint32_t ref[1 + text_field_count], flags;
      micros times[2];
      std::memcpy(ref, group.data() + at, sizeof ref);
      std::memcpy(&flags, group.data() + at + sizeof ref, sizeof flags);
      std::memcpy(times, group.data() + at + sizeof ref + sizeof flags, sizeof times);
      // Every field named, in text_fields' order: a default row would intern "synced" for its
      // drift, a count both threads would then bounce between them.
      auto t = [&](std::size_t f) { return field(ref[f + 1]); };
      rows.push_back(std::make_shared<const db::artifact_row>(db::artifact_row{
          .id = std::string(texts[ref[0]]), .project_id = t(0), .name = t(1), .type = t(2), .source = t(3),
          .deployed_version = t(4), .upstream_version = t(5), .is_outdated = (flags & 1) != 0,
          .local_modified = (flags & 2) != 0, .created_at = times[0], .updated_at = times[1], .profile_root = t(6),
          .from_collection = t(7), .artifact_path = t(8), .deployed_hash = t(9), .local_hash = t(10),
          .collection_hash = t(11), .drift = t(12), .deployed_at = t(13), .description = t(14), .tags = t(15),
          .aliases = t(16), .metadata_json = t(17)}));
    }
    return rows;
  }
};

std::string why_not_same(const header& h, const db_identity& now) {
  if (h.db_size != now.size || h.db_mtime_ns != now.mtime_ns ||
      std::string_view(h.db_header, sqlite_header_bytes) != now.header)
    return "the database changed after it was written";
  return {};
}
}  // namespace

std::string encode_snapshot(const db_identity& id, const stored_rows& rows) {
  writer w;
  std::string projects, records;
  std::unordered_map<std::string_view, std::uint32_t> project_index;
  for (auto& p : rows.projects) {
    project_index.emplace(p.id, static_cast<std::uint32_t>(project_index.size()));
    put_project(w, projects, p);
  }
  std::uint32_t artifacts = 0, groups = 0;
  writer::put(records, groups);  // set below
  for (auto& [project, list] : rows.artifacts) {
    auto it = project_index.find(project);
    if (it == project_index.end() || list.empty()) continue;  // rows of no project: the database's foreign key forbids them
    ++groups;
    writer::put(records, it->second);
    writer::put(records, static_cast<std::uint32_t>(list.size()));
    for (auto& a : list) put_row(w, records, *a);
    artifacts += static_cast<std::uint32_t>(list.size());
  }
  std::memcpy(records.data(), &groups, sizeof groups);
  return snapshot_framed(id, w.count(), static_cast<std::uint32_t>(rows.projects.size()), artifacts,
                         w.texts() + projects + records);
}

std::string snapshot_framed(const db_identity& id, std::uint32_t texts, std::uint32_t projects, std::uint32_t artifacts,
                            std::string_view payload) {
  header h{};
  std::memcpy(h.magic, magic, sizeof magic);
  h.version = version;
  h.byte_order = byte_order_mark;
  h.db_size = id.size;
  h.db_mtime_ns = id.mtime_ns;
  std::memcpy(h.db_header, id.header.data(), std::min(id.header.size(), sqlite_header_bytes));
  h.texts = texts;
  h.projects = projects;
  h.artifacts = artifacts;
  h.payload_bytes = payload.size();
  h.checksum = checksum_of(payload);
  std::string out(reinterpret_cast<const char*>(&h), sizeof h);
  return out.append(payload);
}

std::optional<stored_rows> decode_snapshot(std::string_view bytes, const db_identity& expected, std::string& why) {
  header h;
  if (bytes.size() < sizeof h) return why = "it is shorter than its header", std::nullopt;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (std::memcmp(h.magic, magic, sizeof magic) != 0) return why = "it is not a projcache snapshot", std::nullopt;
  if (h.byte_order != byte_order_mark || h.version != version)
    return why = "it was written by another version or machine", std::nullopt;
  auto payload = bytes.substr(sizeof h);
  if (payload.size() != h.payload_bytes || checksum_of(payload) != h.checksum)
    return why = "it is torn or damaged", std::nullopt;
  if (why = why_not_same(h, expected); !why.empty()) return std::nullopt;
  decoder d;
  reader r(payload);
  stored_rows out;
  std::vector<std::size_t> uses;
  if (!d.read_texts(r, h.texts) || !d.read_projects(r, h.projects, out.projects) ||
      !d.check_rows(r.rest(), h.projects, h.artifacts, uses)) {
    why = d.why;
    return std::nullopt;
  }
  d.build_rows(r.rest(), out.projects, uses, out.artifacts);
  return out;
}

}  // namespace projcache::cache
