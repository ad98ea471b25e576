#pragma once
// Starts the real projcache binary and reads its ready line.
#include <sys/types.h>

#include <chrono>
#include <functional>
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
  // Sanitizer reports are looked for in stderr however the server ended; a test that ends the
  // server on purpose with a failure (kill -9 is no failure) says so here first.
  void expect_unclean_exit() { expect_unclean_ = true; }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string ready_, stderr_path_;
  bool expect_unclean_ = false;
};

// What a server's end says about it: nothing when it exited 0 (or was killed by the test) and
// printed no sanitizer report, else the problem with its stderr.
std::optional<std::string> exit_problem(int exit_code, bool stopped_here, const std::string& stderr_text);
// Where a server_process that did not end cleanly reports it (the black-box suites make it a test
// failure); stderr when none is set.
void set_unclean_exit_reporter(std::function<void(const std::string&)> report);

// Runs the binary to completion: (exit code, stdout, stderr).
struct run_result {
  int code;
  std::string out, err;
};
// input: the text on its stdin (else /dev/null).
run_result run_projcache(std::vector<std::string> args, std::map<std::string, std::string> env,
                         std::optional<std::string> input = std::nullopt);

std::string projcache_binary();

}  // namespace projcache::test
