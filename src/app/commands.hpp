#pragma once
// The CLI's commands. Each returns the process exit code.
#include <boost/program_options/variables_map.hpp>
#include <optional>
#include <string>

#include "app/config.hpp"
#include "platform/file_lock.hpp"

namespace projcache::app {

struct command_args {
  const boost::program_options::variables_map* vm = nullptr;
};

// Exit codes beyond 0/1/2.
inline constexpr int exit_locked = 3;  // another projcache owns the database

int cmd_serve(config cfg, const command_args& a);
int cmd_migrate(const config& cfg, const std::string& action, int steps);
// automatic: readable text on a terminal, JSON otherwise.
enum class status_format { automatic, text, json };
int cmd_status(const config& cfg, status_format format);
// refresh, clear and vacuum go through a running server's API unless `offline`.
int cmd_refresh(const config& cfg, std::optional<std::string> project, bool force, bool offline);
int cmd_clear(const config& cfg, bool yes, bool offline);
int cmd_check(const config& cfg, bool full);
int cmd_vacuum(const config& cfg, bool offline);
int cmd_demo(std::optional<std::string> dir);
// Where `serve --demo-if-missing` keeps its generated world: $XDG_STATE_HOME (or ~/.local/state)
// /projcache/demo.
std::filesystem::path demo_world_dir();
// A SkillMeat home in use has at least one collection (<home>/collections/<name>/).
bool home_has_collections(const std::filesystem::path& home);

// One server (or one-shot command) per database, for as long as the object lives: an exclusive
// flock on "<db>.lock" and on the database file itself, so deleting the lock file cannot let a
// second one in. (SQLite's own locks are POSIX record locks, which flock does not touch.)
class instance_lock {
 public:
  enum class state { held, busy, failed };
  explicit instance_lock(const std::string& db_path);
  ~instance_lock();
  instance_lock(const instance_lock&) = delete;
  state status() const { return state_; }
  bool held() const { return state_ == state::held; }
  // Why it failed (state::failed), in a user's words.
  const std::string& error() const { return error_; }
  // While held: who holds it (the server's ready line), kept in the lock file for a second
  // instance to name. A holder reads as nothing when it wrote none (a one-shot command).
  void record_holder(const std::string& text);
  // When busy: the message for the user, naming the holder's pid and URL when it recorded them.
  std::string busy_message(const std::string& db_path) const;

 private:
  bool take(const std::string& path, platform::file_lock& l, const char* what);
  state state_ = state::failed;
  std::string error_;
  platform::file_lock lock_, db_lock_;
};

// 0 when `l` is held; else the exit code (2: cannot lock, exit_locked: held by another), with
// the reason on stderr.
int lock_or_complain(instance_lock& l, const config& cfg);

}  // namespace projcache::app
