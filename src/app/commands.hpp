#pragma once
// The CLI's commands. Each returns the process exit code.
#include <boost/program_options/variables_map.hpp>
#include <optional>
#include <string>

#include "app/config.hpp"

namespace projcache::app {

struct command_args {
  const boost::program_options::variables_map* vm = nullptr;
};

// Exit codes beyond 0/1/2.
inline constexpr int exit_locked = 3;  // another projcache owns the database

int cmd_serve(config cfg, const command_args& a);
int cmd_migrate(const config& cfg, const std::string& action, int steps);
int cmd_status(const config& cfg);
int cmd_refresh(const config& cfg, std::optional<std::string> project, bool force);
int cmd_clear(const config& cfg, bool yes);
int cmd_check(const config& cfg, bool full);
int cmd_vacuum(const config& cfg);
int cmd_demo(std::optional<std::string> dir);

// An exclusive lock on "<db>.lock" for as long as the object lives; one writer process per db.
class instance_lock {
 public:
  explicit instance_lock(const std::string& db_path);
  ~instance_lock();
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace projcache::app
