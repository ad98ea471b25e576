#pragma once
// What a start created on disk, removed again when it fails before it serves: a start that
// cannot serve (port taken, database unreadable, ...) leaves no ~/.skillmeat/cache, lock file
// or demo world behind, so the next start sees the disk as the user left it.
#include <filesystem>
#include <vector>

namespace projcache::app {

class start_undo {
 public:
  start_undo() = default;
  start_undo(const start_undo&) = delete;
  start_undo& operator=(const start_undo&) = delete;
  ~start_undo();

  // Notes the outermost of `p` and its ancestors that does not exist yet (nothing when `p`
  // exists): everything below it is this start's.
  void note(const std::filesystem::path& p);
  // The server serves: keep it all.
  void commit() { created_.clear(); }

 private:
  std::vector<std::filesystem::path> created_;
};

}  // namespace projcache::app
