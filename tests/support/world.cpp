#include "support/world.hpp"

#include <fcntl.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <utime.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace projcache::test {

temp_dir::temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "projcache-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = fs::canonical(tmpl);
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_file(const fs::path& p, std::string_view content) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  std::string out;
  static const char* hex = "0123456789abcdef";
  for (unsigned char c : md) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

void age_tree(const fs::path& p, int seconds_ago) {
  struct timespec times[2];
  clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= seconds_ago;
  times[1] = times[0];
  auto age = [&](const fs::path& f) { ::utimensat(AT_FDCWD, f.c_str(), times, AT_SYMLINK_NOFOLLOW); };
  if (fs::is_directory(p))
    for (auto& e : fs::recursive_directory_iterator(p)) age(e.path());
  age(p);
}

std::string b64_id(const fs::path& resolved) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string in = resolved.string(), out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += {tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], tbl[v & 63]};
  }
  if (in.size() - i == 1) {
    unsigned v = (unsigned char)in[i] << 16;
    out += {tbl[v >> 18], tbl[(v >> 12) & 63], '=', '='};
  } else if (in.size() - i == 2) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += {tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], '='};
  }
  return out;
}

namespace {
std::string md(const std::string& name, const std::string& version, const std::string& body) {
  return "---\nname: " + name + "\n" + (version.empty() ? "" : "version: " + version + "\n") + "---\n" + body;
}

// A folder's stream written out by hand in SkillMeat's order: (relative path, content).
std::string stream_hash(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string s;
  for (auto& [rel, content] : files) s += rel + content;
  return sha256_hex(s);
}
}  // namespace

reference_world build_reference_world(const fs::path& root) {
  reference_world w;
  w.home = root / "home";
  w.dev = root / "dev";
  fs::path col = w.home / "collections" / "default", team = w.home / "collections" / "team";
  std::string bin;
  for (int r = 0; r < 4; ++r)
    for (int i = 0; i < 256; ++i) bin += static_cast<char>(i);

  // canvas-design, in component order: ".hidden" "A.md" "SKILL.md" "a/b.md" "a-b/x.md" ...
  std::vector<std::pair<std::string, std::string>> canvas{
      {".hidden", "dotfiles count\n"},
      {"A.md", "upper case sorts first\n"},
      {"SKILL.md", md("canvas-design", "2.1.0", "Design on a canvas.\n")},
      {"a/b.md", "component order: a/b before a-b/x\n"},
      {"a-b/x.md", "second\n"},
      {"bin.dat", bin},
      {"empty.txt", ""},
      {"\xc3\xbc-unicode.md", "non-ascii name\n"},
  };
  std::string canvas_hash = stream_hash(canvas);
  fs::path app = w.dev / "app", claude = app / ".claude";
  for (auto& [rel, content] : canvas) {
    write_file(col / "skills/canvas-design" / rel, content);
    write_file(claude / "skills/canvas-design" / rel, content);
  }
  std::string review_old = md("review", "1.0.0", "Review the diff.\n"), review_new = md("review", "1.2.0", "Review the diff, then the tests.\n");
  write_file(col / "commands/review.md", review_new);
  write_file(claude / "commands/review.md", review_old);
  std::string pm = "You are a product manager.\n", pm_local = "You are a product manager. Local edit.\n";
  write_file(col / "agents/pm.md", pm);
  write_file(claude / "agents/pm.md", pm_local);
  std::vector<std::pair<std::string, std::string>> lint_old{{"SKILL.md", "Lint everything.\n"}, {"rules/style.md", "two spaces\n"}};
  std::vector<std::pair<std::string, std::string>> lint_col{{"SKILL.md", "Lint everything, faster.\n"}, {"rules/style.md", "two spaces\n"}};
  std::vector<std::pair<std::string, std::string>> lint_local{{"SKILL.md", "Lint everything.\n"}, {"rules/style.md", "four spaces\n"}};
  for (auto& [rel, c] : lint_col) write_file(col / "skills/lint" / rel, c);
  for (auto& [rel, c] : lint_local) write_file(claude / "skills/lint" / rel, c);
  std::string legacy = "A command the collection dropped.\n";
  write_file(claude / "commands/legacy.md", legacy);
  write_file(col / "commands/ghost.md", "Still in the collection.\n");

  struct dep {
    std::string name, type, rel, hash;
  };
  std::vector<dep> deps{{"canvas-design", "skill", "skills/canvas-design", canvas_hash},
                        {"review", "command", "commands/review.md", sha256_hex(review_old)},
                        {"pm", "agent", "agents/pm.md", sha256_hex(pm)},
                        {"lint", "skill", "skills/lint", stream_hash(lint_old)},
                        {"legacy", "command", "commands/legacy.md", sha256_hex(legacy)},
                        {"ghost", "command", "commands/ghost.md", sha256_hex("gone")}};
  std::string text;
  for (auto& d : deps)
    text += "[[deployed]]\nartifact_name = \"" + d.name + "\"\nartifact_type = \"" + d.type +
            "\"\nfrom_collection = \"default\"\ndeployed_at = \"2026-01-05T15:07:49.157370\"\nartifact_path = \"" + d.rel +
            "\"\ncontent_hash = \"" + d.hash + "\"\nlocal_modifications = false\nprofile_root_dir = \".claude\"\n\n";
  write_file(claude / ".skillmeat-deployed.toml", text);
  write_file(col / "collection.toml",
             "[collection]\nname = \"default\"\nversion = \"1.0.0\"\n\n"
             "[[artifacts]]\nname = \"canvas-design\"\ntype = \"skill\"\npath = \"skills/canvas-design/\"\norigin = \"github\"\n"
             "upstream = \"https://github.com/example/skills/tree/main/canvas-design\"\ntags = [\"design\", \"canvas\"]\n\n"
             "[artifacts.metadata]\ntitle = \"Canvas Design\"\ndescription = \"Design on a canvas\"\nversion = \"2.1.0\"\n\n"
             "[[artifacts]]\nname = \"review\"\ntype = \"command\"\npath = \"commands/review.md\"\norigin = \"local\"\n\n"
             "[artifacts.metadata]\nversion = \"1.2.0\"\n\n"
             "[[artifacts]]\nname = \"pm\"\ntype = \"agent\"\npath = \"agents/pm.md\"\norigin = \"local\"\n\n"
             "[[artifacts]]\nname = \"lint\"\ntype = \"skill\"\npath = \"skills/lint/\"\norigin = \"local\"\n\n"
             "[[artifacts]]\nname = \"ghost\"\ntype = \"command\"\npath = \"commands/ghost.md\"\norigin = \"local\"\n");
  write_file(col / "collection.lock", "[lock]\nversion = \"1.0.0\"\n\n[lock.entries.\"pm::agent\"]\ncontent_hash = \"" +
                                          sha256_hex(pm) + "\"\nresolved_version = \"v0.9.0\"\n");

  // team collection and clients/web with two profile roots
  std::string docs_md = md("docs", "0.3.0-beta.1", "Write docs.\n");
  write_file(team / "skills/docs/SKILL.md", docs_md);
  write_file(team / "collection.toml",
             "[collection]\nname = \"team\"\n\n[[artifacts]]\nname = \"docs\"\ntype = \"skill\"\npath = \"skills/docs\"\n\n"
             "[artifacts.metadata]\nversion = \"0.3.0\"\ndescription = \"Docs writer\"\n");
  std::string docs_hash = stream_hash({{"SKILL.md", docs_md}});
  fs::path web = w.dev / "clients/web";
  for (std::string root : {".claude", ".codex"}) {
    write_file(web / root / "skills/docs/SKILL.md", docs_md);
    write_file(web / root / ".skillmeat-deployed.toml",
               "[[deployed]]\nartifact_name = \"docs\"\nartifact_type = \"skill\"\nfrom_collection = \"team\"\n"
               "artifact_path = \"skills/docs\"\ncollection_sha = \"" + docs_hash + "\"\n");
  }
  write_file(web / ".claude/.skillmeat-project.toml", "[project]\nname = \"Web Frontend\"\ndescription = \"The web client\"\n");

  write_file(w.dev / "a/b/deep/.claude/.skillmeat-deployed.toml", "");
  write_file(w.dev / "a/b/c/deeper/.claude/.skillmeat-deployed.toml", "");
  write_file(w.dev / "app2/node_modules/pkg/.claude/.skillmeat-deployed.toml", "");
  write_file(w.dev / "broken/.claude/.skillmeat-deployed.toml", "[[deployed]\nartifact_name = \n");

  w.app_id = b64_id(app);
  w.web_id = b64_id(web);
  w.deep_id = b64_id(w.dev / "a/b/deep");
  w.broken_id = b64_id(w.dev / "broken");
  auto id = [&](const std::string& t, const std::string& n) { return w.app_id + ":.claude:" + t + ":" + n; };
  auto s12 = [](const std::string& h) { return h.substr(0, 12); };
  std::string lint_col_hash = stream_hash(lint_col), lint_local_hash = stream_hash(lint_local);
  w.artifacts[id("skill", "canvas-design")] = {"synced", canvas_hash, canvas_hash, canvas_hash, "2.1.0", "2.1.0", false, false};
  w.artifacts[id("command", "review")] = {"outdated", sha256_hex(review_old), sha256_hex(review_old), sha256_hex(review_new), "1.0.0", "1.2.0", true, false};
  w.artifacts[id("agent", "pm")] = {"modified", sha256_hex(pm), sha256_hex(pm_local), sha256_hex(pm), s12(sha256_hex(pm)), "v0.9.0", false, true};
  w.artifacts[id("skill", "lint")] = {"conflict", stream_hash(lint_old), lint_local_hash, lint_col_hash, s12(stream_hash(lint_old)), s12(lint_col_hash), true, true};
  w.artifacts[id("command", "legacy")] = {"removed", sha256_hex(legacy), sha256_hex(legacy), "", s12(sha256_hex(legacy)), "", false, false};
  w.artifacts[id("command", "ghost")] = {"missing", sha256_hex("gone"), "", sha256_hex("Still in the collection.\n"), s12(sha256_hex("gone")), s12(sha256_hex("Still in the collection.\n")), false, false};
  for (std::string root : {".claude", ".codex"})
    w.artifacts[w.web_id + ":" + root + ":skill:docs"] = {"synced", docs_hash, docs_hash, docs_hash, "0.3.0-beta.1", "0.3.0", false, false};
  return w;
}

}  // namespace projcache::test
