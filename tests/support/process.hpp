#pragma once
// Starts the real projcache binary and reads its ready line.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace projcache::test {

class server_process {
 public:
  // Runs `projcache serve --port 0 ARGS` with ENV added; waits for the ready line.
  server_process(std::vector<std::string> args, std::map<std::string, std::string> env,
                 std::chrono::seconds timeout = std::chrono::seconds(30));
  ~server_process();
  server_process(const server_process&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& ready_line() const { return ready_; }
  // Sends sig and waits for the exit status (-1 on timeout, after which it is killed).
  int stop(int sig, std::chrono::milliseconds timeout = std::chrono::milliseconds(8000));
  bool running();
  std::string stderr_text() const;

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string ready_, stderr_path_;
};

// Runs the binary to completion: (exit code, stdout, stderr).
struct run_result {
  int code;
  std::string out, err;
};
run_result run_projcache(std::vector<std::string> args, std::map<std::string, std::string> env);

std::string projcache_binary();

}  // namespace projcache::test
