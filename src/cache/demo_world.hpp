#pragma once
// A small SkillMeat world for first runs and demos: one collection and three projects that
// between them show every drift state.
#include <filesystem>

namespace projcache::cache {

struct demo_world {
  std::filesystem::path home;         // SKILLMEAT_HOME
  std::filesystem::path search_root;  // where the projects are
};

demo_world write_demo_world(const std::filesystem::path& dir);

}  // namespace projcache::cache
