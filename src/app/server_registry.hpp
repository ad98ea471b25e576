#pragma once
// Which projcache serves which port, so that a start that finds its port taken can say who has
// it. Each server writes its ready line to <runtime dir>/<port>.json once it serves and removes
// it when it stops. The lock file names the holder of one database; this names the holder of a
// port whatever home it serves (a second run.sh under another HOME still names the first).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace projcache::app {

struct running_server {
  long pid = 0;
  std::string url, db;
};

// A server's ready line ({"event":"ready","pid","url","db",...}), as the lock file and the
// registry keep it; nothing when the text is not one.
std::optional<running_server> parse_ready_line(const std::string& line);
// Whether the recorded server's process still runs.
bool still_running(const running_server& s);
// The server recorded in <db>.lock (whether or not it still holds the lock).
std::optional<running_server> lock_file_holder(const std::string& db_path);

class server_registry {
 public:
  // $XDG_RUNTIME_DIR/projcache, else <temp>/projcache-<uid>: per user, not per home.
  server_registry();
  explicit server_registry(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // Best effort: the registry only improves an error message.
  void record(std::uint16_t port, const std::string& ready_line) const;
  // Removes the port's entry if it is this process's.
  void forget(std::uint16_t port) const;
  // The server recorded for the port, if its process still runs.
  std::optional<running_server> find(std::uint16_t port) const;

 private:
  std::filesystem::path entry(std::uint16_t port) const;
  void prune() const;
  std::filesystem::path dir_;
};

}  // namespace projcache::app
