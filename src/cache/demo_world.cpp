#include "cache/demo_world.hpp"

#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "cache/content_hash.hpp"

namespace fs = std::filesystem;

namespace projcache::cache {

namespace {
void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::string md(const std::string& name, const std::string& version, const std::string& body) {
  return "---\nname: " + name + "\nversion: " + version + "\n---\n" + body;
}

struct deployment {
  std::string name, type, rel;
};

// Writes the deployment file, hashing each deployed copy as it is now (deploy time).
void deploy(const fs::path& root, const std::vector<deployment>& items, const std::map<std::string, std::string>& forced) {
  content_hasher h(nullptr, nullptr);
  std::string text;
  for (auto& d : items) {
    std::string hash = forced.count(d.name) ? forced.at(d.name) : h.hash(root / d.rel).value_or("");
    text += "[[deployed]]\nartifact_name = \"" + d.name + "\"\nartifact_type = \"" + d.type +
            "\"\nfrom_collection = \"default\"\ndeployed_at = \"2026-01-05T15:07:49.157370\"\nartifact_path = \"" +
            d.rel + "\"\ncontent_hash = \"" + hash + "\"\nlocal_modifications = false\n\n";
  }
  write(root / ".skillmeat-deployed.toml", text);
}
}  // namespace

demo_world write_demo_world(const fs::path& dir) {
  fs::path home = dir / "home", dev = dir / "dev", col = home / "collections" / "default";
  auto skill = [&](const fs::path& base, const std::string& name, const std::string& version, const std::string& body) {
    write(base / "skills" / name / "SKILL.md", md(name, version, body));
    write(base / "skills" / name / "reference.md", "Notes for " + name + ".\n");
  };
  // The collection as it was when the projects deployed from it.
  skill(col, "canvas-design", "2.1.0", "Design on a canvas.\n");
  skill(col, "lint", "1.0.0", "Lint everything.\n");
  skill(col, "docs", "0.3.0", "Write the docs.\n");
  write(col / "commands" / "review.md", md("review", "1.0.0", "Review the diff.\n"));
  write(col / "agents" / "pm.md", md("pm", "1.0.0", "You are a product manager.\n"));

  for (auto& project : {"webapp", "api", "tools"}) {
    fs::path claude = dev / project / ".claude";
    fs::create_directories(claude);
    fs::copy(col, claude, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  }
  write(dev / "webapp" / ".claude" / "commands" / "legacy.md", "A command the collection dropped.\n");
  write(dev / "webapp" / ".claude" / ".skillmeat-project.toml",
        "[project]\nname = \"Web App\"\ndescription = \"The customer-facing web app\"\n");
  deploy(dev / "webapp" / ".claude",
         {{"canvas-design", "skill", "skills/canvas-design"}, {"review", "command", "commands/review.md"},
          {"pm", "agent", "agents/pm.md"}, {"legacy", "command", "commands/legacy.md"}},
         {});
  deploy(dev / "api" / ".claude",
         {{"lint", "skill", "skills/lint"}, {"docs", "skill", "skills/docs"}, {"ghost", "command", "commands/ghost.md"}},
         {{"ghost", "0000000000000000000000000000000000000000000000000000000000000000"}});
  deploy(dev / "tools" / ".claude", {{"docs", "skill", "skills/docs"}, {"review", "command", "commands/review.md"}}, {});

  // Then the world moves on: new upstream versions and local edits.
  write(col / "commands" / "review.md", md("review", "1.2.0", "Review the diff, then the tests.\n"));  // outdated
  write(dev / "webapp" / ".claude" / "agents" / "pm.md", md("pm", "1.0.0", "You are a PM. Local edit.\n"));  // modified
  write(col / "skills" / "lint" / "SKILL.md", md("lint", "1.1.0", "Lint everything, faster.\n"));  // conflict:
  write(dev / "api" / ".claude" / "skills" / "lint" / "reference.md", "Our own lint notes.\n");   // both moved
  write(col / "commands" / "ghost.md", md("ghost", "1.0.0", "Deployed once, deleted since.\n"));  // missing

  write(col / "collection.toml",
        "[collection]\nname = \"default\"\nversion = \"1.0.0\"\ncreated = \"2025-11-13T13:40:02.118204\"\n"
        "updated = \"2026-02-01T10:00:00.000000\"\n\n"
        "[[artifacts]]\nname = \"canvas-design\"\ntype = \"skill\"\npath = \"skills/canvas-design/\"\norigin = \"github\"\n"
        "added = \"2025-11-13T13:49:37.120000\"\nupstream = \"https://github.com/example/skills/tree/main/canvas-design\"\n"
        "tags = [\"design\", \"canvas\"]\n\n[artifacts.metadata]\ntitle = \"Canvas Design\"\n"
        "description = \"Design on a canvas\"\nversion = \"2.1.0\"\n\n"
        "[[artifacts]]\nname = \"review\"\ntype = \"command\"\npath = \"commands/review.md\"\norigin = \"local\"\n"
        "added = \"2025-11-13T13:49:37.120000\"\n\n[artifacts.metadata]\nversion = \"1.2.0\"\ndescription = \"Code review\"\n\n"
        "[[artifacts]]\nname = \"pm\"\ntype = \"agent\"\npath = \"agents/pm.md\"\norigin = \"local\"\n"
        "added = \"2025-11-13T13:49:37.120000\"\n\n"
        "[[artifacts]]\nname = \"lint\"\ntype = \"skill\"\npath = \"skills/lint/\"\norigin = \"local\"\n"
        "added = \"2025-11-13T13:49:37.120000\"\n\n[artifacts.metadata]\nversion = \"1.1.0\"\n\n"
        "[[artifacts]]\nname = \"docs\"\ntype = \"skill\"\npath = \"skills/docs\"\norigin = \"local\"\n"
        "added = \"2025-11-13T13:49:37.120000\"\n\n[artifacts.metadata]\nversion = \"0.3.0\"\n\n"
        "[[artifacts]]\nname = \"ghost\"\ntype = \"command\"\npath = \"commands/ghost.md\"\norigin = \"local\"\n"
        "added = \"2025-11-13T13:49:37.120000\"\n");
  write(col / "collection.lock", "[lock]\nversion = \"1.0.0\"\n");
  return {home, dev};
}

}  // namespace projcache::cache
